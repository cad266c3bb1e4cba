"""Live updates over the API: auth, add, replace, delete, consistency after each."""

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from index.builder import build_index
from index.check import check_index
from index.tokenize import tokenizer_from

AUTH = {"Authorization": "Bearer s3cret"}


@pytest.fixture
def client(settings, tiny_articles, fake_encoder):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    app = create_app(settings.model_copy(update={"write_token": "s3cret"}), encoder=fake_encoder)
    with TestClient(app) as test_client:
        test_client.index_dir = settings.index_dir
        yield test_client


NEW = {"id": "n1", "title": "新闻", "text": "快递小哥驿站开张。\n驿站提供热水和充电。", "date": "2025-01-02"}


def search_ids(client, q, **params):
    return [h["article_id"] for h in client.get("/search", params={"q": q, "mode": "bm25", **params}).json()["hits"]]


def test_writes_need_the_token(client):
    assert client.post("/articles", json={"articles": [NEW]}).status_code == 401
    bad = client.post("/articles", json={"articles": [NEW]}, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and "Authorization" in bad.json()["message"]
    assert client.delete("/articles/a1").status_code == 401


def test_writes_are_off_without_a_token(settings, tiny_articles, fake_encoder):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    with TestClient(create_app(settings, encoder=fake_encoder)) as client:
        response = client.post("/articles", json={"articles": [NEW]}, headers=AUTH)
        assert response.status_code == 403 and "ZHSEARCH_WRITE_TOKEN" in response.json()["message"]


def test_add_replace_delete(client):
    added = client.post("/articles", json={"articles": [NEW]}, headers=AUTH)
    assert added.status_code == 200 and added.json()["paragraphs"] == 2
    assert search_ids(client, "驿站开张")[0] == "n1"
    assert client.get("/articles/n1").json()["date"] == "2025-01-02"
    assert set(search_ids(client, "驿站", date_from="2025")) == {"n1"}
    assert check_index(client.index_dir)[1] == []

    replaced = client.post("/articles", json={"articles": [NEW | {"text": "只剩一段。"}]}, headers=AUTH)
    assert replaced.status_code == 200
    assert [p["text"] for p in client.get("/articles/n1").json()["paragraphs"]] == ["只剩一段。"]
    assert "n1" not in search_ids(client, "热水")
    assert check_index(client.index_dir)[1] == []

    assert client.delete("/articles/n1", headers=AUTH).json()["paragraphs"] == 1
    assert client.get("/articles/n1").status_code == 404
    assert client.delete("/articles/n1", headers=AUTH).status_code == 404
    assert check_index(client.index_dir)[1] == []
    assert client.get("/health").json()["articles"] == 3


@pytest.mark.parametrize("body", [
    {"articles": []},
    {"articles": [{"id": "x", "text": "  "}]},
    {"articles": [{"id": "a/b", "text": "正文"}]},
    {"articles": [{"id": "x", "text": "正文"}, {"id": "x", "text": "重复"}]},
    {"articles": [{"id": "x", "text": "正文", "date": "tomorrow"}]},
    {"nothing": 1},
])
def test_bad_write_bodies_are_422(client, body):
    response = client.post("/articles", json=body, headers=AUTH)
    assert response.status_code == 422 and response.json()["message"]


def test_oversized_body_is_413(client):
    response = client.post("/articles", content=b"x" * (9 * 1024 * 1024), headers=AUTH | {"content-type": "application/json"})
    assert response.status_code == 413


def test_writes_survive_a_reseeded_random(client):
    import random

    for n in range(3):  # Whoosh names segments from `random`: a reseed must not repeat a name
        random.seed(0)
        response = client.post("/articles", json={"articles": [{"id": f"r{n}", "text": "正文"}]}, headers=AUTH)
        assert response.status_code == 200
    assert client.delete("/articles/a1", headers=AUTH).status_code == 200
    assert check_index(client.index_dir)[1] == []
