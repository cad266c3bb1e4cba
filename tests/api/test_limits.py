"""Body and query-string limits: 413/414 with a JSON message, before the body is parsed."""

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from api.app import create_app
from api.limits import MAX_QUERY_BYTES, BodyLimit, install_body_limit
from index.builder import build_index
from index.tokenize import tokenizer_from

LIMIT = 1000


class Echo(BaseModel):
    text: str


@pytest.fixture
def tiny_app() -> FastAPI:
    """An app of its own that counts how often its handler ran."""
    app = FastAPI()
    app.state.calls = 0

    @app.post("/echo")
    def echo(body: Echo) -> dict[str, int]:
        app.state.calls += 1
        return {"chars": len(body.text)}

    @app.get("/echo")
    def echo_get(q: str = "") -> dict[str, int]:
        return {"chars": len(q)}

    install_body_limit(app, LIMIT)
    return app


def chunks(total: int, size: int = 100):
    """A body without Content-Length (httpx sends a generator chunked)."""
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


def test_normal_body_passes(tiny_app):
    with TestClient(tiny_app) as client:
        response = client.post("/echo", json={"text": "职工" * 100})
        assert response.status_code == 200 and response.json() == {"chars": 200}
        assert client.get("/echo", params={"q": "x" * (MAX_QUERY_BYTES - 2)}).status_code == 200


def test_oversized_json_body_is_413_with_message(tiny_app):
    with TestClient(tiny_app) as client:
        response = client.post("/echo", json={"text": "x" * LIMIT})
        assert response.status_code == 413
        assert response.json()["error"] == "payload too large"
        assert f"at most {LIMIT} bytes" in response.json()["message"]
        assert tiny_app.state.calls == 0


def test_body_of_exactly_the_limit_passes(tiny_app):
    body = b'{"text": "' + b"x" * (LIMIT - 12) + b'"}'
    assert len(body) == LIMIT
    with TestClient(tiny_app) as client:
        response = client.post("/echo", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 200 and response.json() == {"chars": LIMIT - 12}


def test_chunked_oversized_body_is_413(tiny_app):
    with TestClient(tiny_app) as client:
        response = client.post("/echo", content=chunks(LIMIT + 1), headers={"content-type": "application/json"})
        assert response.status_code == 413
        assert f"at most {LIMIT} bytes" in response.json()["message"]
        assert tiny_app.state.calls == 0


def test_chunked_small_body_passes(tiny_app):
    with TestClient(tiny_app) as client:
        body = iter([b'{"text": ', b'"abc"}'])
        response = client.post("/echo", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 200 and response.json() == {"chars": 3}


def test_streaming_stops_reading_at_the_limit(tiny_app):
    """Straight through ASGI: the client offers 100 chunks, the app reads only up to the limit."""
    pulled, sent = 0, []

    async def receive():
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 100, "more_body": pulled < 100}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/echo", "raw_path": b"/echo", "query_string": b"", "root_path": "", "server": ("test", 80),
             "client": ("test", 1), "headers": [(b"content-type", b"application/json"), (b"host", b"test")]}
    anyio.run(BodyLimit(tiny_app, LIMIT), scope, receive, send)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert pulled == LIMIT // 100 + 1  # the chunk that crosses the limit is the last one read
    assert b"payload too large" in b"".join(m.get("body", b"") for m in sent[1:])


def test_long_query_string_is_414(tiny_app):
    with TestClient(tiny_app) as client:
        response = client.get("/echo", params={"q": "x" * (MAX_QUERY_BYTES - 1)})
        assert response.status_code == 414
        assert f"at most {MAX_QUERY_BYTES} bytes" in response.json()["message"]


def test_bad_content_length_is_400(tiny_app):
    with TestClient(tiny_app) as client:
        response = client.post("/echo", content=b"{}", headers={"content-length": "many"})
        assert response.status_code == 400 and response.json()["message"]


def test_negative_limit_is_refused():
    with pytest.raises(ValueError, match="max_bytes"):
        BodyLimit(FastAPI(), -1)


@pytest.fixture
def client(settings, tiny_articles, fake_encoder):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    app = create_app(settings.model_copy(update={"write_token": "secret"}), encoder=fake_encoder)
    install_body_limit(app, 1_000_000)
    with TestClient(app) as test_client:
        yield test_client


def test_real_app_refuses_oversized_writes_and_searches(client):
    auth = {"Authorization": "Bearer secret"}
    big = {"articles": [{"id": f"big{i}", "title": "大", "text": "字" * 100_000} for i in range(4)]}  # ~1.2 MB in UTF-8
    response = client.post("/articles", json=big, headers=auth)
    assert response.status_code == 413 and "at most 1000000 bytes" in response.json()["message"]
    assert client.get("/articles/big0").status_code == 404
    chunked = client.post("/search", content=chunks(1_000_001, 65536), headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    assert client.get("/search", params={"q": "职工", "source": "x" * MAX_QUERY_BYTES}).status_code == 414


def test_real_app_longest_valid_query_reaches_validation(client):
    """512 Chinese characters percent-encode to 512 * 9 bytes: that is a search, not a 414."""
    assert client.get("/search", params={"q": "职" * 512, "mode": "bm25"}).status_code == 200
    too_long = client.get("/search", params={"q": "职" * 513, "mode": "bm25"})
    assert too_long.status_code == 422 and "q" in too_long.json()["message"]


def test_real_app_serves_normal_bodies(client):
    response = client.post("/search", json={"q": "外卖配送员", "mode": "bm25", "k": 2})
    assert response.status_code == 200 and response.json()["hits"][0]["article_id"] == "a2"
    small = {"articles": [{"id": "n1", "title": "新闻", "text": "快递小哥驿站开张。\n驿站提供热水。"}]}
    added = client.post("/articles", json=small, headers={"Authorization": "Bearer secret"})
    assert added.status_code == 200 and added.json()["added"] == ["n1"]
