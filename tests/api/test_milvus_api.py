"""The service over a Milvus corpus, on a real server on loopback: the same answers as over the index, and 503 with
the reason, never a hang or a 500, when Milvus is not there or goes away."""

from __future__ import annotations

import httpx
import pytest

from conftest import TINY, refusing_port
from fakes import FakeEncoder
from live_server import serving_app
from milvus_setup import SERVER, drop_corpus, export_corpus, milvus_settings
from api.app import create_app


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from conftest import CACHE_DIR
    from index.settings import Settings

    folder = tmp_path_factory.mktemp("milvus-api")
    settings = milvus_settings(Settings(index_dir=folder / "index", cache_dir=CACHE_DIR, write_token="t"), folder, "api")
    export_corpus(settings, TINY, FakeEncoder())
    yield settings
    drop_corpus(settings)


def test_the_service_answers_from_milvus_as_from_the_index(corpus):
    embedded = corpus.model_copy(update={"backend": "embedded"})
    with serving_app(create_app(corpus, encoder=FakeEncoder()), "milvus") as url, \
            serving_app(create_app(embedded, encoder=FakeEncoder()), "embedded") as base:
        for params in ({"q": "外卖配送员", "mode": "bm25"}, {"q": "职工培训", "mode": "hybrid"},
                       {"q": "臺灣", "mode": "dense", "group": "article"}, {"q": "工会", "source": "tiny.txt"}):
            found, expected = httpx.get(f"{url}/search", params=params).json(), httpx.get(f"{base}/search", params=params).json()
            assert [h["paragraph_id"] for h in found["hits"]] == [h["paragraph_id"] for h in expected["hits"]]
            assert found["total"] == expected["total"]
        assert httpx.get(f"{url}/articles/a1").json() == httpx.get(f"{base}/articles/a1").json()
        assert httpx.get(f"{url}/paragraphs/a2.p000").json() == httpx.get(f"{base}/paragraphs/a2.p000").json()
        assert httpx.get(f"{url}/articles/nope").status_code == 404
        stats, health = httpx.get(f"{url}/stats").json(), httpx.get(f"{url}/health").json()
        assert stats["backend"] == health["backend"] == "milvus" and stats["paragraphs"] == 4
        assert "#api_" in health["index"]


def test_an_acknowledged_write_is_searchable_and_a_delete_is_gone(corpus):
    auth = {"Authorization": "Bearer t"}
    article = {"id": "post1", "title": "快递小哥的新年", "text": "快递小哥在驿站过了一个温暖的新年。\n工会送来了饺子。",
               "date": "2026-01-12", "source": "api"}
    with serving_app(create_app(corpus, encoder=FakeEncoder()), "writes") as url:
        posted = httpx.post(f"{url}/articles", json={"articles": [article]}, headers=auth)
        assert posted.status_code == 200 and posted.json()["paragraphs"] == 2
        found = httpx.get(f"{url}/search", params={"q": "快递小哥 饺子", "mode": "bm25"}).json()
        assert found["hits"][0]["article_id"] == "post1"  # searchable once acknowledged
        assert httpx.get(f"{url}/articles/post1").json()["title"] == "快递小哥的新年"
        assert httpx.get(f"{url}/stats").json()["paragraphs"] == 6
        assert httpx.delete(f"{url}/articles/post1", headers=auth).status_code == 200
        assert httpx.get(f"{url}/articles/post1").status_code == 404
        assert httpx.get(f"{url}/search", params={"q": "饺子", "mode": "bm25"}).json()["total"] == 0
        too_long = httpx.post(f"{url}/articles", json={"articles": [{"id": "long1", "text": "字" * 70000}]}, headers=auth)
        assert too_long.status_code == 422 and "long1.p000 is 210000 bytes" in too_long.json()["message"]
        assert httpx.post(f"{url}/articles", json={"articles": [article]}, headers=auth).status_code == 200  # no 409
        assert httpx.delete(f"{url}/articles/post1", headers=auth).status_code == 200
        missing = httpx.delete(f"{url}/articles/post1", headers=auth)
        assert missing.status_code == 404 and "post1" in missing.json()["message"]
        assert httpx.get(f"{url}/stats").json()["paragraphs"] == 4


def test_no_milvus_at_the_address_is_503_naming_it(tmp_path, settings):
    with refusing_port() as port:
        down = settings.model_copy(update={"backend": "milvus", "milvus_uri": f"http://127.0.0.1:{port}",
                                           "milvus_timeout_s": 1})
        with serving_app(create_app(down, encoder=FakeEncoder()), "down", health="/docs") as url:
            health = httpx.get(f"{url}/health", timeout=60)
            assert health.status_code == 503 and f"127.0.0.1:{port}" in health.json()["message"]
            search = httpx.get(f"{url}/search", params={"q": "工会"}, timeout=60)
            assert search.status_code == 503 and f"127.0.0.1:{port}" in search.json()["message"]


@pytest.mark.skipif(SERVER is not None, reason="stops the Milvus Lite server of this process")
def test_milvus_going_away_is_503_with_the_reason(corpus):
    from milvus_lite.server_manager import server_manager_instance

    app = create_app(corpus.model_copy(update={"milvus_timeout_s": 2}), encoder=FakeEncoder())
    with serving_app(app, "going") as url:
        assert httpx.get(f"{url}/search", params={"q": "工会", "mode": "bm25"}).status_code == 200
        server_manager_instance.release_server(corpus.milvus_uri)
        for mode in ("bm25", "dense", "hybrid"):
            response = httpx.get(f"{url}/search", params={"q": "工会会员", "mode": mode}, timeout=60)
            assert response.status_code == 503, response.text
            assert response.json()["error"] == "backend unavailable" and "Milvus at" in response.json()["message"]
        health = httpx.get(f"{url}/health", timeout=60)
        assert health.status_code == 503 and "Milvus at" in health.json()["message"]


def test_another_writer_s_commit_is_picked_up(corpus):
    import time

    from index.milvus.connection import connect
    from index.milvus.writer import MilvusWriter
    from index.models import Article
    from index.tokenize import tokenizer_from
    from index.update import prepare

    encoder = FakeEncoder()
    with serving_app(create_app(corpus, encoder=encoder), "watch") as url:
        conn = connect(corpus)  # another process's writer (zhsearch add), as far as the service can tell
        try:
            update = prepare([Article("cli1", "另一个写入者", ("这篇文章由命令行写入。",), source="cli.txt")], [], encoder, True)
            assert MilvusWriter(conn, tokenizer_from(corpus), encoder.config()).commit([update]) == [None]
            deadline = time.monotonic() + 30
            while httpx.get(f"{url}/articles/cli1").status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert httpx.get(f"{url}/articles/cli1").status_code == 200
            assert MilvusWriter(conn, tokenizer_from(corpus), encoder.config()).commit([prepare([], ["cli1"], encoder, True)]) == [None]
        finally:
            conn.close()
