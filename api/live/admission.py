"""Admission control for writes: a bounded queue served by threads of their own; a write beyond it gets 429.

A write holds a thread from the request to its acknowledgement (embedding, then waiting for the group
commit), and writes go no faster than the model embeds them. On the request threads searches use, a
burst of writes took every one of them (anyio's 40): measured, 147 articles posted at once kept a search
waiting 53 s. So writes run on `threads` threads of their own; the others admitted wait for one in the
event loop, holding no thread, in the order they came. At most `limit` are admitted (waiting or running);
one more is refused at once with 429 and a Retry-After, as Elasticsearch answers a full write queue,
instead of queueing without bound (the client retries later, or sends more articles per request).

Invariant: `admitted` counts writes between admission and answer, never more than `limit`; it and the
gaps between answers are changed only on the event loop's thread, so they need no lock.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Callable, TypeVar

import anyio
import anyio.to_thread

from api.errors import ServiceError

T = TypeVar("T")
THREADS = 8  # writes running at once: the model's passes are bounded apart (2), the rest wait for a commit
GAPS = 32  # the last gaps between answers while writes were queued give the rate at which the queue drains
MAX_RETRY_AFTER_S = 60


class WriteAdmission:
    """Runs writes on `threads` threads of their own, at most `limit` admitted at once; refuses one more with 429."""

    def __init__(self, limit: int, threads: int = THREADS) -> None:
        if limit < 1 or threads < 1:
            raise ValueError(f"the write limit and threads must be at least 1, got {limit} and {threads}")
        self.limit, self.threads = limit, threads
        self.admitted = 0
        self.gaps: deque[float] = deque(maxlen=GAPS)  # seconds between answers, each with writes still queued
        self._last_answer: float | None = None  # when the last write was answered, while others remained
        self._limiter: anyio.CapacityLimiter | None = None  # made on the event loop that runs the writes

    def seconds_per_write(self) -> float:
        """How long the queue has lately taken per write when busy (1 s until a gap is known)."""
        return sum(self.gaps) / len(self.gaps) if self.gaps else 1.0

    def retry_after(self) -> int:
        """Seconds for half the admitted writes to be answered at the recent rate: room for a new one, with
        refused clients spread out rather than back at once; at least 1, at most MAX_RETRY_AFTER_S."""
        return min(MAX_RETRY_AFTER_S, max(1, math.ceil(self.admitted / 2 * self.seconds_per_write())))

    def refusal(self) -> ServiceError:
        wait = self.retry_after()
        return ServiceError(429, "too many writes",
                            f"{self.admitted} writes are waiting or being written, the most this service queues "
                            f"(ZHSEARCH_MAX_WRITES={self.limit}); retry in {wait} s, or send more articles per "
                            "request (up to 100)", headers={"Retry-After": str(wait)})

    def answered(self, now: float) -> None:
        """Note a write answered at `now`: the gap since the one before counts if writes were queued all along."""
        if self._last_answer is not None:
            self.gaps.append(now - self._last_answer)
        self._last_answer = now if self.admitted else None  # an idle queue's wait is no drain rate

    async def run(self, write: Callable[..., T], *args: object) -> T:
        """`write(*args)` on a write thread once one is free; 429 (`ServiceError`) when `limit` are admitted."""
        if self.admitted >= self.limit:
            raise self.refusal()
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.threads)
        self.admitted += 1
        try:
            return await anyio.to_thread.run_sync(write, *args, limiter=self._limiter)
        finally:
            self.admitted -= 1
            self.answered(time.monotonic())
