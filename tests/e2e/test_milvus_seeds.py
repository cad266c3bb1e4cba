"""End to end on Milvus: the seed index (real model) exported by the real CLI into Milvus Lite, a real server with
ZHSEARCH_BACKEND=milvus on loopback answering as the embedded one does, and a write with the real model found."""

import os
import subprocess

import httpx
import pytest

from e2e.seeds import ROOT, ZHSEARCH, served

pytestmark = pytest.mark.e2e
QUERIES = ["外卖配送员春节怎么过", "工匠学院", "职工 NOT 培训", '"暖心驿站"', "臺灣"]


@pytest.fixture(scope="module")
def milvus_server(seeds_index, tmp_path_factory):
    folder = tmp_path_factory.mktemp("milvus-e2e")
    uri = os.environ.get("ZHSEARCH_TEST_MILVUS_URI") or str(folder / "seeds.db")
    env = {**os.environ, "ZHSEARCH_MILVUS_URI": uri, "ZHSEARCH_MILVUS_COLLECTION": f"e2e_{os.getpid()}",
           "ZHSEARCH_WRITE_TOKEN": "e2e"}
    done = subprocess.run([*ZHSEARCH, "export", "--index-dir", str(seeds_index), "--replace", "--quiet"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "exported 39 articles, 224 paragraphs" in done.stdout
    with served([], folder / "server.log", {**env, "ZHSEARCH_BACKEND": "milvus"}, ping_timeout=5) as base:
        yield base


def test_the_milvus_service_answers_as_the_embedded_one(milvus_server, server):
    assert httpx.get(f"{milvus_server}/health").json()["backend"] == "milvus"
    for query in QUERIES:
        for mode in ("bm25", "dense", "hybrid"):
            params = {"q": query, "mode": mode, "k": 10}
            found = httpx.get(f"{milvus_server}/search", params=params, timeout=60).json()
            expected = httpx.get(f"{server}/search", params=params, timeout=60).json()
            assert [h["paragraph_id"] for h in found["hits"]] == [h["paragraph_id"] for h in expected["hits"]], (query, mode)
            assert found["total"] == expected["total"]


def test_a_write_with_the_real_model_is_found_at_once(milvus_server):
    article = {"id": "e2e-1", "title": "外卖骑手的年夜饭", "date": "2026-01-28", "source": "e2e",
               "text": "除夕夜，工会在驿站为留守的外卖骑手准备了一桌年夜饭。\n骑手们说，这是离家以来最温暖的一顿饭。"}
    posted = httpx.post(f"{milvus_server}/articles", json={"articles": [article]},
                        headers={"Authorization": "Bearer e2e"}, timeout=120)
    assert posted.status_code == 200, posted.text
    hits = httpx.get(f"{milvus_server}/search", params={"q": "送外卖的小哥除夕在哪吃饭", "mode": "dense"}, timeout=60).json()
    assert "e2e-1" in [h["article_id"] for h in hits["hits"][:3]]
    gone = httpx.delete(f"{milvus_server}/articles/e2e-1", headers={"Authorization": "Bearer e2e"}, timeout=60)
    assert gone.status_code == 200
