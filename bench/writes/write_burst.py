"""A burst of writes: many articles posted at once, each by its own client, beside clients searching.

A newsroom's import script, or many editors at once, can post far faster than the model embeds. The
question is what the searches pay meanwhile and what the writers hear. Each writer posts its one
article and, answered 429, waits as long as Retry-After says and posts it again, as a polite client
does; each keeps one connection. What it reports: the searches' latency before and during the burst
(their worst wait shows a search stuck behind writes), each write's answer time, the 429s, how long
until every article was in, and that every one is found.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.common.corpus import sample_queries
from bench.common.cpu_time import cpu_time
from bench.common.http_load import running_server
from bench.writes.write_common import TOKEN, article_body, fresh_articles, summary
from bench.writes.write_feed import WRITE_TIMEOUT_S

from index.models import Article

QUIET_S = 10.0  # searches alone before the burst


class ClosedLoopSearches:
    """`clients` threads searching (hybrid) one after another until `stop()`; each search's ms and status."""

    def __init__(self, url: str, texts: list[str], clients: int) -> None:
        self.url, self.texts = url, texts
        self.ms: list[float] = []
        self.statuses: Counter[int] = Counter()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._search, args=(n,), daemon=True) for n in range(clients)]
        for thread in self._threads:
            thread.start()

    def _search(self, offset: int) -> None:
        with httpx.Client(base_url=self.url, timeout=WRITE_TIMEOUT_S) as client:
            n = offset
            while not self._stop.is_set():
                started = time.perf_counter()
                status = client.get("/search", params={"q": self.texts[n % len(self.texts)], "mode": "hybrid"}).status_code
                with self._lock:
                    self.ms.append((time.perf_counter() - started) * 1000)
                    self.statuses[status] += 1
                n += len(self._threads)

    def stop(self) -> "ClosedLoopSearches":
        self._stop.set()
        for thread in self._threads:
            thread.join(WRITE_TIMEOUT_S)
        return self


def post_until_taken(url: str, article: Article, answers: list[tuple[int, float]], lock: threading.Lock) -> None:
    """POST `article` until it is not refused with 429, waiting Retry-After between; every answer's status and ms."""
    body = article_body(article)
    with httpx.Client(base_url=url, timeout=WRITE_TIMEOUT_S,
                      headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        while True:
            started = time.perf_counter()
            try:
                answer = client.post("/articles", json=body)
                status, wait = answer.status_code, float(answer.headers.get("Retry-After", "1"))
            except httpx.HTTPError:
                status, wait = 0, 1.0
            with lock:
                answers.append((status, (time.perf_counter() - started) * 1000))
            if status != 429:
                return
            time.sleep(wait)


def burst(index_dir: Path, fake: bool, work: Path, articles: int, clients: int) -> dict[str, Any]:
    """`clients` searching alone, then while `articles` writers post at once; what each side saw."""
    texts = [text for _, text in sample_queries(200, seed=5)]
    posted = fresh_articles(articles, seed=7)
    answers: list[tuple[int, float]] = []
    lock = threading.Lock()
    with running_server(index_dir, fake, work / "server-burst.log") as server:
        for text in texts[:5]:
            httpx.get(f"{server.url}/search", params={"q": text, "mode": "hybrid"}, timeout=60)
        quiet = ClosedLoopSearches(server.url, texts, clients)
        time.sleep(QUIET_S)
        quiet.stop()
        busy = ClosedLoopSearches(server.url, texts, clients)
        cpu_before, started = cpu_time(server.process.pid), time.perf_counter()
        writers = [threading.Thread(target=post_until_taken, args=(server.url, a, answers, lock)) for a in posted]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        seconds, cpu = time.perf_counter() - started, cpu_time(server.process.pid) - cpu_before
        busy.stop()
        missing = [a.id for a in posted if httpx.get(f"{server.url}/articles/{a.id}", timeout=30).status_code != 200]
    statuses = Counter(status for status, _ in answers)
    return {"articles": len(posted), "clients": clients, "seconds": seconds, "cpu": cpu,
            "quiet": summary(quiet.ms), "busy": summary(busy.ms), "searches": sum(busy.statuses.values()),
            "search_errors": sum(n for s, n in busy.statuses.items() if s != 200),
            "acked": summary([ms for status, ms in answers if status == 200]), "statuses": dict(statuses),
            "missing": missing}


def burst_rows(b: dict[str, Any]) -> list[tuple[str, str]]:
    """The burst's rows of the benchmark's table."""
    statuses = ", ".join(f"{n} × {s or 'no answer'}" for s, n in sorted(b["statuses"].items()))
    return [(f"burst: {b['clients']} client(s) hybrid before it, p50 / p99 / max",
             f"{b['quiet']['p50']:.1f} / {b['quiet']['p99']:.1f} / {b['quiet']['max']:.1f} ms"),
            (f"burst: the same while {b['articles']} articles are posted at once, p50 / p99 / max; searches, errors",
             f"{b['busy']['p50']:.1f} / {b['busy']['p99']:.1f} / {b['busy']['max']:.1f} ms; "
             f"{b['searches']}, {b['search_errors']}"),
            ("burst: answers to the writers' POSTs (429: retried after Retry-After)", statuses),
            ("burst: an accepted POST's answer, p50 / p99 / max",
             f"{b['acked']['p50']:.0f} / {b['acked']['p99']:.0f} / {b['acked']['max']:.0f} ms"),
            ("burst: until every article was in; the service's CPU meanwhile; not found after",
             f"{b['seconds']:.1f} s; {b['cpu'].own:.1f} s; {len(b['missing'])}")]
