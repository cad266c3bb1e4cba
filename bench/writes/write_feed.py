"""The sustained feed: clients search a served index, alone twice, then beside one article posted every second.

The writer is open-loop, as a newsroom's feed is: a POST starts every second whether or not the one
before has been answered (each in its own thread), so a slow write cannot lower the load it is
measured under. The second window without writes is the control: warm (the first faults in the
index's files and fills the caches), it is the baseline the writes' window is compared with, and its
heaps' growth is what the searches alone still add. What it
reports: the searches' latency and rate without (twice) and with the writes, each
write's time from POST to acknowledgement, that every acknowledged article is found, and the
server's memory against what the writes added on disk (its heaps apart from the index's mapped
files, and again once the service has settled after the feed).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

import httpx

from bench.common.corpus import sample_queries
from bench.common.cpu_time import cpu_time
from bench.common.http_load import running_server, run_clients
from bench.common.memory import anon_rss_bytes, children_rss_bytes, rss_bytes
from bench.writes.write_common import TOKEN, article_body, fresh_articles, index_bytes, mb, summary

from api.live.holder import SETTLE_AFTER
from index.models import Article

EARLY_WRITES = 10  # the server's memory is noted after this many writes: what grows once, what per write
WRITE_TIMEOUT_S = 120.0  # httpx's limit for each phase of a POST (connect, write, read)
JOIN_S = 4 * WRITE_TIMEOUT_S  # a POST's phases together, with room: every post has its answer once join returns


class OpenLoopWriter:
    """Posts `articles`, one every `period` seconds from `start()` until `stop()`, each in its own thread.

    Invariant: every post started is either acknowledged (in `acked`, with its time in `ack_ms` and its
    place in the feed in `ack_order`) or an
    error (in `errors`) once `join()` returns; `on_acked(count)` runs after each acknowledgement.
    """

    def __init__(self, url: str, articles: list[Article], period: float = 1.0,
                 on_acked: Callable[[int], None] = lambda count: None) -> None:
        self.url, self.articles, self.period, self.on_acked = url, articles, period, on_acked
        self.acked: list[str] = []
        self.ack_ms: list[float] = []
        self.ack_order: list[int] = []  # the number of each acknowledged post in the feed, in ack_ms's order
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._posts: list[threading.Thread] = []
        self._clock = threading.Thread(target=self._tick, daemon=True)

    def start(self) -> None:
        self._clock.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self) -> None:
        self._clock.join(JOIN_S)
        for post in self._posts:
            post.join(JOIN_S)

    @property
    def posted(self) -> int:
        return len(self._posts)

    def _tick(self) -> None:
        started = time.perf_counter()
        for n, article in enumerate(self.articles):
            if self._stop.wait(max(0.0, started + n * self.period - time.perf_counter())):
                return
            post = threading.Thread(target=self._post, args=(article, n), daemon=True)
            self._posts.append(post)
            post.start()

    def _post(self, article: Article, number: int) -> None:
        body = article_body(article)
        started = time.perf_counter()
        try:
            answer = httpx.post(f"{self.url}/articles", json=body, headers={"Authorization": f"Bearer {TOKEN}"},
                                timeout=WRITE_TIMEOUT_S)
        except Exception as err:  # noqa: BLE001 - whatever stops a post is that post's error
            with self._lock:
                self.errors.append(f"{type(err).__name__}: {err}")
            return
        with self._lock:
            if answer.status_code != 200:
                self.errors.append(f"{answer.status_code}: {answer.text[:200]}")
                return
            self.acked.append(article.id)
            self.ack_ms.append((time.perf_counter() - started) * 1000)
            self.ack_order.append(number)
            count = len(self.acked)
        self.on_acked(count)


def feed(index_dir: Path, fake: bool, work: Path, seconds: float, clients: int) -> dict[str, Any]:
    """`clients` searching clients without writes, then as long again beside an article posted every second."""
    texts = [text for _, text in sample_queries(200, seed=5)] * 1000  # loops are bounded by time, not by queries
    early: list[int] = []  # the server's RSS after the first EARLY_WRITES writes
    with running_server(index_dir, fake, work / "server-feed.log") as server:
        pid = server.process.pid
        quiet_anon = anon_rss_bytes(pid)
        quiet = run_clients(server.url, "hybrid", texts, clients, seconds)
        again_anon = anon_rss_bytes(pid)
        # the same searches again without writes, warm: the control the writes' window is compared with (its p99
        # against the first's shows the first's warm-up; its heaps' growth what searches alone still add)
        cpu_quiet = cpu_time(pid)
        again = run_clients(server.url, "hybrid", texts, clients, seconds)
        cpu_again = cpu_time(pid) - cpu_quiet
        rss_before, disk_before, anon_before = rss_bytes(pid), index_bytes(index_dir), anon_rss_bytes(pid)
        children_before, cpu_before = children_rss_bytes(pid), cpu_time(pid)

        def note_early(count: int) -> None:
            if count == EARLY_WRITES:
                early.append(rss_bytes(pid))

        writer = OpenLoopWriter(server.url, fresh_articles(int(seconds) + 5, seed=6), on_acked=note_early)
        writer.start()
        busy = run_clients(server.url, "hybrid", texts, clients, seconds)
        writer.stop()
        writer.join()
        cpu = cpu_time(pid) - cpu_before
        missing = [aid for aid in writer.acked if httpx.get(f"{server.url}/articles/{aid}", timeout=30).status_code != 200]
        rss_after, disk_after, anon_after = rss_bytes(pid), index_bytes(index_dir), anon_rss_bytes(pid)
        children_after = children_rss_bytes(pid)
        time.sleep(SETTLE_AFTER + 5)  # the service settles its heap once writes pause: what it keeps
        anon_settled, rss_settled, disk_settled = anon_rss_bytes(pid), rss_bytes(pid), index_bytes(index_dir)
    return {"quiet": quiet, "again": again, "busy": busy, "posted": writer.posted, "acked": len(writer.acked),
            "ack_ms": summary(writer.ack_ms), "ack_thirds": thirds(writer.ack_order, writer.ack_ms),
            "write_errors": writer.errors, "missing": missing,
            "rss_growth": rss_after - rss_before, "disk_growth": disk_after - disk_before,
            "anon_growth": anon_after - anon_before, "quiet_anon_growth": again_anon - quiet_anon,
            "again_anon_growth": anon_before - again_anon,
            "anon_settled": anon_settled - anon_before, "rss_settled": rss_settled - rss_before,
            "disk_settled": disk_settled - disk_before, "children_rss": (children_before, children_after),
            "rss_early": (early[0] - rss_before) if early else None, "cpu": cpu, "cpu_again": cpu_again,
            "merge_nice": os.environ.get("ZHSEARCH_MERGE_NICE", "default"), "clients": clients}


def thirds(order: list[int], ms: list[float]) -> list[float]:
    """Median time to acknowledgement of the first, middle and last third of the posts (by their place in the
    feed): a rising last third means writes arrive faster than they are absorbed."""
    ranked = [m for _, m in sorted(zip(order, ms))]
    cut = len(ranked) // 3
    parts = [ranked[:cut], ranked[cut:len(ranked) - cut], ranked[len(ranked) - cut:]] if cut else []
    return [summary(part)["p50"] for part in parts]


def feed_rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    """The feed's rows of the benchmark's table."""
    ack = f.get("ack_ms")
    return [(f"feed: {f.get('clients', 8)} clients hybrid without writes, p50 / p99, q/s",
             f"{f['quiet'].p50():.1f} / {f['quiet'].p99():.1f} ms, {f['quiet'].qps():.1f} q/s, {f['quiet'].errors} errors"),
            ("feed: the same again, still without writes (the control), p50 / p99, q/s",
             f"{f['again'].p50():.1f} / {f['again'].p99():.1f} ms, {f['again'].qps():.1f} q/s, {f['again'].errors} errors; "
             f"p99 ×{f['again'].p99() / f['quiet'].p99():.2f} of the first's"),
            ("feed: the same with 1 write a second, p50 / p99, q/s",
             f"{f['busy'].p50():.1f} / {f['busy'].p99():.1f} ms, {f['busy'].qps():.1f} q/s, {f['busy'].errors} errors; "
             f"p99 ×{f['busy'].p99() / f['again'].p99():.2f} of the control's, ×{f['busy'].p99() / f['quiet'].p99():.2f} "
             "of the first's"),
            ("feed: writes posted / acknowledged / failed / acknowledged but not found",
             f"{f.get('posted', '?')} / {f['acked']} / {len(f['write_errors'])} / {len(f['missing'])}"),
            ("feed: a write's POST to acknowledgement (embedding included), p50 / p99 / max",
             "n/a" if not ack or not ack["n"] else f"{ack['p50']:.0f} / {ack['p99']:.0f} / {ack['max']:.0f} ms"),
            ("feed: the same, p50 of the first / middle / last third of the posts",
             " / ".join(f"{x:.0f}" for x in f["ack_thirds"]) + " ms" if f.get("ack_thirds") else "n/a"),
            ("feed: server RSS growth vs the index's growth on disk", f"{mb(f['rss_growth'])} vs {mb(f['disk_growth'])}"),
            (f"feed: of that RSS growth, after the first {EARLY_WRITES} writes / over the {f['acked'] - EARLY_WRITES} after",
             "n/a" if f.get("rss_early") is None else f"{mb(f['rss_early'])} / {mb(f['rss_growth'] - f['rss_early'])}"),
            ("feed: of the server's RSS, its heaps' growth (RssAnon; the rest is the index's mapped files)",
             "n/a" if "anon_growth" not in f else f"{mb(f['anon_growth'])}; over the searches alone before it: "
             f"{mb(f['quiet_anon_growth'])}, then {mb(f['again_anon_growth'])} the second time"),
            (f"feed: the heaps' growth kept once the service settled ({SETTLE_AFTER + 5:.0f} s after the feed)",
             "n/a" if "anon_settled" not in f else mb(f["anon_settled"])),
            ("feed: the same, the server's RSS growth vs the index's growth on disk then",
             "n/a" if "rss_settled" not in f else f"{mb(f['rss_settled'])} vs {mb(f['disk_settled'])}"),
            ("feed: the service's child processes and theirs (the merge server, merges), RSS before / after",
             " / ".join(mb(x) for x in f.get("children_rss", (0, 0)))),
            ("feed: CPU over the writes' phase: the service / its child processes (merges)",
             "n/a" if "cpu" not in f else f"{f['cpu'].own:.1f} s / {f['cpu'].descendants:.1f} s"),
            ("feed: the service's CPU over the control / the writes' phase, less a search's share of it (ms a "
             "search in the control): what the writes took, a write",
             "n/a" if "cpu_again" not in f else writes_share(f)),
            ("feed: the service's merge niceness (ZHSEARCH_MERGE_NICE)", str(f.get("merge_nice", "default")))]


def writes_share(f: dict[str, Any]) -> str:
    """The service's CPU in the control and beside the writes, and what the writes took of the latter: all of it
    but what the searches made beside them cost at the control's CPU a search (an estimate: a search costs a
    little more beside writes, its caches shared)."""
    again, busy = f["cpu_again"].own, f["cpu"].own
    per_search = again / max(1, f["again"].calls)
    writes = busy - per_search * f["busy"].calls
    return (f"{again:.1f} s / {busy:.1f} s ({per_search * 1000:.2f} ms a search): "
            f"{writes:.1f} s, {writes / max(1, f['acked']) * 1000:.0f} ms a write")
