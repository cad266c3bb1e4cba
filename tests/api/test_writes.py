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


CLI_WRITER = """
import sys
sys.path.insert(0, sys.argv[3]); sys.path.insert(0, sys.argv[3] + "/tests")
from pathlib import Path
from fakes import FakeEncoder
from index.models import Article
from index.settings import Settings
from index.tokenize import tokenizer_from
from index.writer import apply_update
settings = Settings(index_dir=Path(sys.argv[1]), cache_dir=Path(sys.argv[2]))
for n in range(10):
    apply_update(settings.index_dir, [Article(f"cli{n}", "命令行", (f"命令行写入的第{n}篇。",))], [],
                 tokenizer_from(settings), FakeEncoder())
print("done")
"""


def test_the_service_and_another_process_write_at_once(client, settings):
    """Both write in turn (the write lock, across processes); nothing is lost or corrupted, and the service
    sees the other process's writes (its watcher reopens the index)."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    other = subprocess.Popen([sys.executable, "-c", CLI_WRITER, str(client.index_dir), str(settings.cache_dir),
                              str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for n in range(10):
        response = client.post("/articles", json={"articles": [{"id": f"api{n}", "text": f"接口写入的第{n}篇。"}]},
                               headers=AUTH)
        assert response.status_code == 200, response.text
    out, err = other.communicate(timeout=120)
    assert other.returncode == 0 and out.strip() == "done", err
    assert check_index(client.index_dir)[1] == []
    wanted = {f"api{n}" for n in range(10)} | {f"cli{n}" for n in range(10)}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(client.get(f"/articles/{a}").status_code != 200 for a in wanted):
        time.sleep(0.05)
    assert all(client.get(f"/articles/{a}").status_code == 200 for a in wanted)
