"""The API through TestClient over a tiny real index (fake encoder): answers and 4xx messages."""

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from index.builder import build_index
from index.tokenize import tokenizer_from


@pytest.fixture
def client(settings, tiny_articles, fake_encoder):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    with TestClient(create_app(settings, encoder=fake_encoder)) as test_client:
        yield test_client


def test_get_and_post_search_agree(client):
    got = client.get("/search", params={"q": "外卖配送员", "k": 2, "mode": "bm25"})
    posted = client.post("/search", json={"q": "外卖配送员", "k": 2, "mode": "bm25"})
    assert got.status_code == posted.status_code == 200
    body = got.json()
    assert body["hits"][0]["article_id"] == "a2"
    assert {h["paragraph_id"] for h in body["hits"]} == {h["paragraph_id"] for h in posted.json()["hits"]}
    assert set(body) >= {"query", "mode", "took_ms", "total", "hits"}
    assert set(body["hits"][0]) >= {"rank", "score", "paragraph_id", "article_id", "title", "text", "highlights"}


@pytest.mark.parametrize("params,field", [
    ({"q": ""}, "q"),
    ({"q": "   "}, "blank"),
    ({"q": "x" * 513}, "q"),
    ({"q": "职工", "k": 0}, "k"),
    ({"q": "职工", "k": 101}, "k"),
    ({"q": "职工", "k": "ten"}, "k"),
    ({"q": "职工", "offset": -1}, "offset"),
    ({"q": "职工", "offset": 1001}, "offset"),
    ({"q": "职工", "mode": "magic"}, "mode"),
    ({"q": "职工", "alpha": 2}, "alpha"),
    ({}, "q"),
])
def test_bad_search_input_is_422_with_message(client, params, field):
    response = client.get("/search", params=params)
    assert response.status_code == 422
    assert field in response.json()["message"]


def test_malformed_json_is_422(client):
    response = client.post("/search", content='{"q": "职工",'.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "json" in response.json()["message"].lower()


def test_unknown_ids_are_404(client):
    for path in ("/paragraphs/nope.p000", "/articles/nope"):
        response = client.get(path)
        assert response.status_code == 404
        assert "nope" in response.json()["message"]


def test_documents_by_id(client):
    article = client.get("/articles/a1").json()
    assert article["title"] == "工匠学院直通车开到生产一线"
    assert [p["paragraph_id"] for p in article["paragraphs"]] == ["a1.p000", "a1.p001"]
    assert client.get("/paragraphs/a1.p001").json()["text"].startswith("青年职工高阳")


def test_health_and_docs(client):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["paragraphs"] == 4
    assert client.get("/openapi.json").status_code == 200


def test_missing_index_is_503_with_the_fix(settings, fake_encoder):
    with TestClient(create_app(settings, encoder=fake_encoder)) as test_client:
        health = test_client.get("/health")
        assert health.status_code == 503
        assert "zhsearch index" in health.json()["message"]
        search = test_client.get("/search", params={"q": "职工"})
        assert search.status_code == 503 and "zhsearch index" in search.json()["message"]


def test_filters_by_source_and_article(client):
    body = client.get("/search", params={"q": "开发 职工", "mode": "hybrid", "source": "trad.txt"}).json()
    assert body["hits"] and {h["source"] for h in body["hits"]} == {"trad.txt"}
    for mode in ("bm25", "dense", "hybrid"):
        body = client.get("/search", params={"q": "职工", "mode": mode, "article_id": "a1"}).json()
        assert body["hits"] and {h["article_id"] for h in body["hits"]} == {"a1"}


def test_date_filter_and_bad_dates(client):
    assert client.get("/search", params={"q": "职工", "date_from": "2024-13"}).status_code == 200
    assert client.get("/search", params={"q": "职工", "date_from": "yesterday"}).status_code == 422
    body = client.get("/search", params={"q": "职工", "mode": "dense", "date_from": "2000"}).json()
    assert body["hits"] == []  # the tiny corpus has no dated article


def test_stats(client):
    body = client.get("/stats").json()
    assert body["articles"] == 3 and body["paragraphs"] == 4
    assert body["sources"] == ["tiny.txt", "trad.txt"] and body["index_bytes"] > 0
    assert body["sentence_vectors"] == 0  # every tiny paragraph is one sentence


def test_metrics_and_json_request_log(client, caplog):
    import json
    import logging

    logger = logging.getLogger("zhsearch.access")
    logger.propagate = True
    try:
        with caplog.at_level(logging.INFO, logger="zhsearch.access"):
            client.get("/search", params={"q": "外卖配送员", "mode": "bm25"})
            client.get("/search", params={"q": ""})
    finally:
        logger.propagate = False
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "zhsearch.access"]
    search = next(r for r in records if r["status"] == 200)
    assert search["mode"] == "bm25" and search["hits"] >= 1 and "took_ms" in search
    assert "query" not in search  # query text stays out unless ZHSEARCH_LOG_QUERIES is set
    assert any(r["status"] == 422 for r in records)
    text = client.get("/metrics").text
    assert 'zhsearch_searches_total{mode="bm25"} 1.0' in text
    assert 'zhsearch_search_seconds_bucket{le="0.005",mode="bm25"}' in text
    assert 'zhsearch_requests_total{route="/search",status="422"} 1.0' in text


def test_undecodable_body_says_what_to_send(client):
    response = client.post("/search", content=b'{"q": "\xff\xfe"}', headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500
    assert "UTF-8" in response.json()["message"] or "json" in response.json()["message"].lower()


def test_explain_on_request_in_get_and_post(client):
    plain = client.get("/search", params={"q": "职工", "k": 2}).json()
    assert all(hit["explain"] is None for hit in plain["hits"])
    got = client.get("/search", params={"q": "职工", "k": 2, "explain": "true", "fusion": "rrf"}).json()
    posted = client.post("/search", json={"q": "职工", "k": 2, "explain": True, "fusion": "rrf"}).json()
    assert [h["explain"] for h in got["hits"]] == [h["explain"] for h in posted["hits"]]
    for hit in got["hits"]:
        assert hit["explain"]["fusion"] == "rrf" and hit["explain"]["score"] == pytest.approx(hit["score"], abs=1e-6)
    assert client.get("/search", params={"q": "职工", "explain": "maybe"}).status_code == 422


def test_a_damaged_paragraph_is_a_500_naming_the_file_and_the_fix(settings, tiny_articles, fake_encoder):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    path = next(settings.index_dir.glob("seg-*/paragraphs.jsonl"))
    lines = path.read_bytes().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith(b'{"id": "a2.p000",'))
    lines[at] = lines[at].replace(b'"text": "', b'"text": ')  # its id intact: the segment still opens
    path.write_bytes(b"".join(lines))
    with TestClient(create_app(settings, encoder=fake_encoder), raise_server_exceptions=False) as client:
        damaged = client.get("/search", params={"q": "外卖配送员", "mode": "bm25"})
        assert damaged.status_code == 500 and damaged.json()["error"] == "index damaged"
        assert f"paragraphs.jsonl: line {at + 1} cannot be read" in damaged.json()["message"]
        assert "zhsearch check" in damaged.json()["message"]
        assert client.get("/search", params={"q": "工匠学院", "mode": "bm25", "k": 1}).status_code == 200
