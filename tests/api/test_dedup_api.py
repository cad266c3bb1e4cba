"""Copies of a story (near-duplicates marked at ingest) through the API: shown once with `similar`, or all."""

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from index.builder import build_index
from index.tokenize import tokenizer_from

STORY = ["全国总工会近日召开会议，部署开展新就业形态劳动者权益保障工作。会议要求各级工会组织深入快递、外卖、网约车等行业，"
         "摸清劳动者的实际需求，推动企业与劳动者开展集体协商。", "会议指出，各地工会已建成一批服务站点，下一步将扩大覆盖面。"]
ORIGINAL = {"id": "a", "title": "全总部署劳动者权益保障", "text": "\n".join(STORY), "source": "p1.txt", "date": "2026-01-05"}
COPY = {**ORIGINAL, "id": "b", "title": "（转载）全总部署权益保障", "source": "p2.txt",
        "text": "本报讯 " + STORY[0].replace("近日", "日前") + "\n" + STORY[1]}
AGAIN = {**ORIGINAL, "id": "c", "title": "全总：保障劳动者权益", "text": STORY[0] + "\n" + STORY[1] + "各地将于年底前完成。"}
OTHER = {"id": "u", "title": "工匠学院开进车间", "source": "p1.txt", "date": "2026-01-06",
         "text": "天津市静海区的工匠学院把课堂搬到了车间，为青年职工讲解数控加工和质量管理的新方法，职工说内容贴近岗位。"}
AUTH = {"Authorization": "Bearer s3cret"}


@pytest.fixture
def client(settings, fake_encoder):
    from api.convert import to_article
    from api.schemas import ArticleIn

    articles = [to_article(ArticleIn(**a)) for a in (ORIGINAL, COPY, OTHER)]
    build_index(settings.index_dir, articles, tokenizer_from(settings), fake_encoder, ["t"], quiet=True)
    app = create_app(settings.model_copy(update={"write_token": "s3cret"}), encoder=fake_encoder)
    with TestClient(app) as test_client:
        yield test_client


def articles_of(body) -> list[str]:
    return [h["article_id"] for h in body["hits"]]


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_a_story_shows_once_naming_its_copies_and_dedup_false_shows_all(client, mode):
    once = client.get("/search", params={"q": "劳动者权益保障", "mode": mode, "k": 20}).json()
    assert once["dedup"] is True and len({"a", "b"} & set(articles_of(once))) == 1
    first = next(h for h in once["hits"] if h["article_id"] in ("a", "b"))
    assert first["similar"] == sorted({"a", "b"} - {first["article_id"]})
    every = client.post("/search", json={"q": "劳动者权益保障", "mode": mode, "k": 20, "dedup": False}).json()
    assert every["dedup"] is False and {"a", "b"} <= set(articles_of(every))
    assert all(h["similar"] for h in every["hits"] if h["article_id"] in ("a", "b"))
    hidden = sum(h["article_id"] not in articles_of(once) for h in every["hits"])
    assert every["total"] - once["total"] == hidden or mode == "dense"  # dense: every paragraph is a result
    assert once["total_relation"] == every["total_relation"] == "eq"  # k=20 fetched every result: exact
    grouped = client.get("/search", params={"q": "劳动者权益保障", "mode": mode, "group": "article"}).json()
    assert len({"a", "b"} & {a["article_id"] for a in grouped["articles"]}) == 1
    assert grouped["total"] == len(grouped["articles"]) and grouped["articles"][0]["similar"] in (["a"], ["b"])


def test_a_total_past_what_was_fetched_for_the_page_is_an_upper_bound_unless_copies_are_shown(client):
    first = client.get("/search", params={"q": "劳动者权益保障", "mode": "dense", "k": 1}).json()
    assert first["total_relation"] == "lte" and first["total"] >= 3  # 2 of 5 fetched: a copy below still counted
    every = client.get("/search", params={"q": "劳动者权益保障", "mode": "dense", "k": 1, "dedup": "false"}).json()
    assert every["total_relation"] == "eq" and every["total"] == 5  # every paragraph is a dense result


def test_a_posted_reprint_joins_its_story_and_a_delete_leaves_it(client):
    assert client.post("/articles", json={"articles": [AGAIN]}, headers=AUTH).status_code == 200
    hits = client.get("/search", params={"q": "劳动者权益保障", "mode": "bm25", "dedup": "false"}).json()["hits"]
    assert {h["article_id"]: h["similar"] for h in hits if h["article_id"] == "c"} == {"c": ["a", "b"]}
    assert client.delete("/articles/a", headers=AUTH).status_code == 200
    hits = client.get("/search", params={"q": "劳动者权益保障", "mode": "bm25"}).json()["hits"]
    assert len({"b", "c"} & set(articles_of({"hits": hits}))) == 1
    assert next(h["similar"] for h in hits if h["article_id"] in ("b", "c")) in (["b"], ["c"])
    related = client.get("/articles/b/related").json()["related"]
    assert "c" not in [r["article_id"] for r in related]  # a copy is never a related story


def test_dedup_must_be_a_boolean(client):
    response = client.get("/search", params={"q": "工会", "dedup": "sometimes"})
    assert response.status_code == 422 and "dedup" in response.text
