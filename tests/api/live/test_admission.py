"""Admission control for writes: a bounded number at once, on threads of their own; one more gets 429."""

from __future__ import annotations

import asyncio
import math
import threading
import time

import httpx
import pytest

from api.app import create_app
from api.errors import ServiceError
from api.live.admission import GAPS, MAX_RETRY_AFTER_S, WriteAdmission
from fakes import FakeEncoder
from index.builder import build_index
from index.tokenize import tokenizer_from
from live_server import serving_app

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SEARCH_THREADS = 40  # anyio's default: the threads every sync route (searches, /health) shares


class GatedEncoder(FakeEncoder):
    """The fake encoder, whose passages wait for `gate` (queries do not): writes held while embedding."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def encode_passages(self, texts, show_progress: bool = False):
        if not self.gate.wait(60):
            raise TimeoutError("the test never opened the gate")
        return super().encode_passages(texts, show_progress)


def wait_until(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting")
        time.sleep(0.01)


def test_writes_beyond_the_threads_wait_and_one_beyond_the_limit_is_refused():
    admission = WriteAdmission(limit=3, threads=1)
    gate = threading.Event()
    ran: list[int] = []

    def held(n: int) -> int:
        ran.append(n)
        assert gate.wait(30)
        return n

    async def scenario() -> tuple[list[int], ServiceError, str]:
        writes = [asyncio.ensure_future(admission.run(held, n)) for n in range(3)]
        while admission.admitted < 3 or not ran:
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.05)
        assert ran == [0]  # one thread: the other two wait, in the event loop
        with pytest.raises(ServiceError) as refused:
            await admission.run(lambda: "never")
        gate.set()
        answers = await asyncio.gather(*writes)
        return answers, refused.value, await admission.run(lambda: "admitted")

    answers, refused, later = asyncio.run(scenario())
    assert answers == [0, 1, 2] and ran == [0, 1, 2]  # in the order they came
    assert refused.status == 429 and "ZHSEARCH_MAX_WRITES=3" in refused.message
    assert int(refused.headers["Retry-After"]) >= 1
    assert later == "admitted" and admission.admitted == 0


def test_a_failed_write_frees_its_place():
    admission = WriteAdmission(1)

    def fails() -> None:
        raise OSError("disk gone")

    async def scenario() -> str:
        with pytest.raises(OSError):
            await admission.run(fails)
        return await admission.run(lambda: "admitted")

    assert asyncio.run(scenario()) == "admitted" and admission.admitted == 0


def test_retry_after_is_half_the_queue_at_the_rate_it_drained_while_busy():
    admission = WriteAdmission(64)
    admission.admitted = 40
    assert admission.retry_after() == 20  # no rate yet: 1 s a write
    for now in (0.0, 0.0, 0.0, 2.0, 2.0, 2.0):  # answered in commits of three, 2 s apart, writes queued throughout
        admission.answered(now)
    assert admission.seconds_per_write() == 2.0 / 5
    assert admission.retry_after() == math.ceil(40 / 2 * 2.0 / 5)
    admission.admitted = 1000
    assert admission.retry_after() == MAX_RETRY_AFTER_S


def test_an_idle_queue_is_no_drain_rate_and_the_gaps_kept_are_few():
    admission = WriteAdmission(64)
    admission.admitted = 0
    admission.answered(0.0)  # the last write answered: the queue is empty
    admission.admitted = 5  # a burst an hour later
    admission.answered(3600.0)
    assert not admission.gaps  # the hour idle is not a write's time
    for n in range(10 * GAPS):
        admission.answered(3600.0 + n)
    assert len(admission.gaps) == GAPS and admission.seconds_per_write() == 1.0


def test_the_limit_and_threads_must_admit_a_write():
    with pytest.raises(ValueError, match="at least 1"):
        WriteAdmission(0)
    with pytest.raises(ValueError, match="at least 1"):
        WriteAdmission(4, threads=0)


@pytest.fixture
def gated_service(settings, tiny_articles):
    """A service on loopback whose writes are held in embedding until the test opens the gate."""
    encoder = GatedEncoder()
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), FakeEncoder(), ["tiny"], quiet=True)
    limit = SEARCH_THREADS + 1  # more writes held at once than the threads searches are served on
    app = create_app(settings.model_copy(update={"write_token": TOKEN, "max_writes": limit}), encoder=encoder)
    with serving_app(app) as base:
        yield base, encoder, limit
        encoder.gate.set()


def admitted(base: str) -> int:
    """The service's gauge of writes admitted now (GET /metrics)."""
    for line in httpx.get(f"{base}/metrics", timeout=10).text.splitlines():
        if line.startswith("zhsearch_writes_admitted "):
            return int(float(line.split()[1]))
    raise AssertionError("no zhsearch_writes_admitted in /metrics")


def post(base: str, n: int, answers: list[int]) -> None:
    body = {"articles": [{"id": f"w{n}", "title": "新闻", "text": f"驿站第{n}号开张。"}]}
    answers.append(httpx.post(f"{base}/articles", json=body, headers=AUTH, timeout=90).status_code)


def test_writes_held_in_embedding_leave_searches_served_and_one_more_gets_429(gated_service):
    base, encoder, limit = gated_service
    answers: list[int] = []
    writers = [threading.Thread(target=post, args=(base, n, answers)) for n in range(limit)]
    for writer in writers:
        writer.start()
    wait_until(lambda: admitted(base) == limit)

    search = httpx.get(f"{base}/search", params={"q": "驿站", "mode": "bm25"}, timeout=10)
    assert search.status_code == 200  # on the threads of their own, writes never take the searches' threads
    assert httpx.get(f"{base}/health", timeout=10).status_code == 200

    refused = httpx.post(f"{base}/articles", json={"articles": [{"id": "late", "text": "晚到的稿件。"}]},
                         headers=AUTH, timeout=10)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert f"ZHSEARCH_MAX_WRITES={limit}" in refused.json()["message"]

    encoder.gate.set()
    for writer in writers:
        writer.join(90)
    assert answers == [200] * limit
    retried = httpx.post(f"{base}/articles", json={"articles": [{"id": "late", "text": "晚到的稿件。"}]},
                         headers=AUTH, timeout=30)
    assert retried.status_code == 200
    hits = httpx.get(f"{base}/search", params={"q": "驿站", "mode": "bm25", "k": 100}, timeout=10).json()["hits"]
    assert {f"w{n}" for n in range(limit)} <= {h["article_id"] for h in hits}
