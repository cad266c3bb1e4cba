"""Timing loops bounded in count and time, and their summary (p50 is the median)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np


@dataclass
class Timings:
    """Latencies (ms) of the calls that succeeded, the number that failed, and the loop's wall time."""

    ms: list[float] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0
    first_error: str = ""

    @property
    def calls(self) -> int:
        return len(self.ms) + self.errors

    def p50(self) -> float:
        return float(np.median(self.ms)) if self.ms else float("nan")

    def p99(self) -> float:
        return float(np.percentile(self.ms, 99)) if self.ms else float("nan")

    def qps(self) -> float:
        """Answered queries per second of wall time (sequential or with every client together)."""
        return len(self.ms) / self.wall if self.wall > 0 else float("nan")

    def add_error(self, what: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or what


def time_calls(call: Callable[[str], object], queries: Sequence[str], limit_s: float, warmup: int = 5) -> Timings:
    """Call `call` on each query in turn (after `warmup` untimed calls), stopping after `limit_s` seconds."""
    for query in queries[:warmup]:
        call(query)
    timings = Timings()
    started = time.perf_counter()
    for query in queries:
        if time.perf_counter() - started > limit_s:
            break
        _timed(call, query, timings)
    timings.wall = time.perf_counter() - started
    return timings


def _timed(call: Callable[[str], object], query: str, timings: Timings) -> None:
    before = time.perf_counter()
    try:
        call(query)
    except Exception as err:  # a benchmark counts failures instead of stopping
        timings.add_error(f"{type(err).__name__}: {err}")
        return
    timings.ms.append((time.perf_counter() - before) * 1000)


def time_paired(ours: Callable[[str], object], peer: Callable[[str], object], queries: Sequence,
                limit_s: float, warmup: int = 5) -> tuple[Timings, Timings]:
    """Both calls on each query back to back, alternating which goes first, so that load from other
    processes on a shared machine falls on both alike; stops after `limit_s` seconds."""
    for query in queries[:warmup]:
        ours(query)
        peer(query)
    first, second = Timings(), Timings()
    started = time.perf_counter()
    for number, query in enumerate(queries):
        if time.perf_counter() - started > limit_s:
            break
        pair = [(ours, first), (peer, second)]
        for call, timings in pair if number % 2 == 0 else reversed(pair):
            _timed(call, query, timings)
    # Each side's wall time is its own share: the sum of its latencies (errors are rare and quick).
    first.wall, second.wall = sum(first.ms) / 1000, sum(second.ms) / 1000
    return first, second
