"""End to end: the real CLI indexes seeds/ with the real model, a real server answers on loopback."""

import json
import os
import subprocess

import httpx
import pytest

from e2e.seeds import ROOT, ZHSEARCH

pytestmark = pytest.mark.e2e


def test_health_reports_the_loaded_index(server):
    body = httpx.get(f"{server}/health").json()
    assert body == body | {"status": "ok", "articles": 39, "paragraphs": 224, "model": "multilingual-e5-small"}


def test_the_service_encodes_on_onnx_runtime_in_the_space_the_index_was_built_in(server):
    # `zhsearch index` may embed with torch in bfloat16 (a bulk build on a CPU with it); the service
    # encodes everything with ONNX Runtime, and opened the index only because their probe vectors agree.
    from index.model.cpu import cpu_features, native_bfloat16, native_int8_dot
    from index.model.runtime import Plan, plan
    from index.settings import Settings

    settings = Settings()  # the environment's (ZHSEARCH_MODEL_DTYPE=float32 times the suite as without bfloat16),
    bf16 = native_bfloat16(cpu_features())  # read by the CLI that built the index and by the server alike
    int8_dot = native_int8_dot(cpu_features())
    serving = plan(settings.model_runtime, settings.model_dtype, bf16, four_bit=True, serving=True, int8_dot=int8_dot)
    if settings.model_runtime == settings.model_dtype == "auto":
        writes = "int8-gemm" if int8_dot else "int8-gemm-7"
        assert serving == Plan(("onnx", "int8"), ("onnx", "float32"), ("onnx", writes))
    stats = httpx.get(f"{server}/stats").json()
    assert stats["model_runtime"] == {"queries": "/".join(serving.lone), "query_batches": "/".join(serving.batch),
                                      "passages": "/".join(serving.passages)}
    built = plan(settings.model_runtime, settings.model_dtype, bf16, four_bit=True).passages
    assert stats["model"]["runtime"] == built[0] and "probe" not in stats["model"]


def test_paraphrased_question_finds_the_article(server):
    # 送餐小哥 shares no word with 外卖配送员: the dense leg has to carry it.
    body = httpx.get(f"{server}/search", params={"q": "送餐小哥春节怎么过", "k": 5}).json()
    titles = [hit["title"] for hit in body["hits"]]
    assert "三亚工会暖心举措陪外卖配送员过年" in titles[:3], titles


def test_a_question_about_one_sentence_finds_its_long_paragraph(server):
    # The answer is the third of five sentences of a 240-character paragraph: its sentence
    # vector matches where the paragraph's vector, an average of all five, ranked it 6th.
    assert httpx.get(f"{server}/stats").json()["sentence_vectors"] > 200
    body = httpx.get(f"{server}/search", params={"q": "工厂里空着的储物间改造成了哺乳室和打台球的地方",
                                                  "mode": "dense", "k": 3}).json()
    assert "002_7155a4ac0a6710c1.a00.p002" in [hit["paragraph_id"] for hit in body["hits"]], body["hits"]


def test_keyword_search_highlights_the_terms(server):
    body = httpx.post(f"{server}/search", json={"q": '"工匠学院"', "mode": "bm25", "k": 10}).json()
    assert body["total"] >= 3
    for hit in body["hits"]:
        marked = "".join(span["text"] for span in hit["highlights"])
        assert "工匠" in marked and "学院" in marked
        assert all(hit["text"][s["start"]:s["end"]] == s["text"] for s in hit["highlights"])


def test_traditional_query_finds_simplified_text(server):
    body = httpx.get(f"{server}/search", params={"q": "外賣配送員過年", "mode": "bm25"}).json()
    assert body["hits"][0]["title"] == "三亚工会暖心举措陪外卖配送员过年"


def test_bad_input_over_the_wire(server):
    assert httpx.get(f"{server}/search", params={"q": " "}).status_code == 422
    assert httpx.get(f"{server}/search", params={"q": "职工", "k": "x"}).status_code == 422
    assert httpx.get(f"{server}/articles/none").status_code == 404
    assert httpx.get(f"{server}/health").status_code == 200  # still serving


def test_cli_search_prints_json(seeds_index):
    done = subprocess.run([*ZHSEARCH, "search", "工匠学院", "--mode", "bm25", "-k", "3", "--json",
                           "--index-dir", str(seeds_index)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert len(body["hits"]) == 3 and body["mode"] == "bm25"
    said = subprocess.run([*ZHSEARCH, "search", "工匠学院", "--mode", "bm25", "-k", "3", "--index-dir", str(seeds_index)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert body["total_relation"] == "lte"  # 6 of the 42 matches fetched, no copy among them: an upper bound
    assert said.stdout.startswith(f"at most {body['total']} hits for '工匠学院'"), said.stdout


def test_cli_errors_name_the_fix(tmp_path):
    done = subprocess.run([*ZHSEARCH, "search", "职工", "--index-dir", str(tmp_path / "none")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "zhsearch index" in done.stderr


def test_explain_gives_the_numbers_the_ranking_used(server):
    """On the real model: each hybrid hit's dense score is its paragraph cosine blended with its best sentence's
    (the default sentence weight), and the legs and article context add up to its score."""
    from index.settings import Settings

    weight = Settings().sentence_weight
    body = httpx.post(f"{server}/search", json={"q": "送餐小哥春节怎么过", "k": 5, "explain": True}).json()
    assert body["hits"]
    blended = 0
    for hit in body["hits"]:
        why = hit["explain"]
        assert why["fused"] + why["article_context"]["added"] == pytest.approx(hit["score"], abs=1e-5)
        dense = why["dense"]
        if dense["rank"] is not None and dense["best_sentence_cosine"] is not None:
            own, sentence = dense["paragraph_cosine"], dense["best_sentence_cosine"]
            assert dense["score"] == pytest.approx((1 - weight) * own + weight * max(own, sentence), abs=1e-5)
            blended += 1
        assert "adaptive" in why["why"]
    assert blended  # the check above ran
    assert httpx.get(f"{server}/search", params={"q": "工会", "k": 2}).json()["hits"][0]["explain"] is None


def test_views_related_and_dedup_on_the_seed_index(server):
    """group, sort=date, facets, related stories and dedup through the API on the real seed index."""
    body = httpx.get(f"{server}/search", params={"q": "工会", "mode": "bm25", "group": "article", "sort": "date",
                                                 "facets": "source,month", "k": 20}).json()
    articles = body["articles"]
    ids = [a["article_id"] for a in articles]
    assert len(ids) == len(set(ids)) == min(20, body["total"]) and body["pool"]["what"] == "every match"
    dated = [a["date"] for a in articles if a["date"] and a["date"][:1].isdigit()]
    assert dated and dated == sorted(dated, reverse=True)  # the seed pages' dates, newest first
    sources = httpx.get(f"{server}/stats").json()["sources"]
    assert {v["value"] for v in body["facets"]["source"]} <= set(sources)
    assert sum(v["count"] for v in body["facets"]["source"]) == body["total"]
    related = httpx.get(f"{server}/articles/{ids[0]}/related", params={"k": 3}).json()["related"]
    assert 1 <= len(related) <= 3 and ids[0] not in [r["article_id"] for r in related]
    # the seed pages hold no reprint: every story is one article, and dedup=false changes nothing
    plain = httpx.get(f"{server}/search", params={"q": "职工培训", "k": 10}).json()
    every = httpx.get(f"{server}/search", params={"q": "职工培训", "k": 10, "dedup": "false"}).json()
    assert [h["paragraph_id"] for h in plain["hits"]] == [h["paragraph_id"] for h in every["hits"]]
    assert all(h["similar"] == [] for h in plain["hits"])


def test_a_synonym_file_adds_the_other_name_on_the_seed_index(server, seeds_index):
    """The seed pages say 新就业形态劳动者; with eval/synonyms/seeds.txt a query for 新业态劳动者 finds and
    highlights it, without the file (the server) only 劳动者 is matched."""
    def highlighted(hits: list[dict]) -> set[str]:
        return {span["text"] for hit in hits for span in hit["highlights"]}

    plain = httpx.get(f"{server}/search", params={"q": "新业态劳动者", "mode": "bm25", "k": 3}).json()["hits"]
    assert plain and not any("就业" in text for text in highlighted(plain))
    # the CLI with the file; ONNX Runtime, as the service encodes (torch would only cost the test its import)
    env = {**os.environ, "ZHSEARCH_SYNONYMS": str(ROOT / "eval/synonyms/seeds.txt"), "ZHSEARCH_MODEL_RUNTIME": "onnx"}
    done = subprocess.run([*ZHSEARCH, "search", "新业态劳动者", "--mode", "bm25", "-k", "3", "--json",
                           "--index-dir", str(seeds_index)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=env)
    assert done.returncode == 0, done.stderr
    assert any("就业" in text for text in highlighted(json.loads(done.stdout)["hits"]))
