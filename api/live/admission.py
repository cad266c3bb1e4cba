"""Admission control for writes: a bounded queue served by threads of their own; a write beyond it gets 429.

A write holds a thread from the request to its acknowledgement (embedding, then waiting for the group
commit), and writes go no faster than the model embeds them. On the request threads searches use, a
burst of writes took every one of them (anyio's 40): measured, 147 articles posted at once kept a search
waiting 53 s. So writes run on `threads` threads of their own; the others admitted wait for one in the
event loop, holding no thread, in the order they came. At most `limit` are admitted (waiting or running);
one more is refused at once with 429 and a Retry-After, as Elasticsearch answers a full write queue,
instead of queueing without bound (the client retries later, or sends more articles per request).

Invariant: `admitted` counts writes between admission and answer, never more than `limit`; it and the
answers' times are read and changed only on the event loop's thread, so they need no lock.
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
RATE_WINDOW_S = 60.0  # the answers of this last minute give the rate at which the queue drains


class WriteAdmission:
    """Runs writes on `threads` threads of their own, at most `limit` admitted at once; refuses one more with 429."""

    def __init__(self, limit: int, threads: int = THREADS) -> None:
        if limit < 1 or threads < 1:
            raise ValueError(f"the write limit and threads must be at least 1, got {limit} and {threads}")
        self.limit, self.threads = limit, threads
        self.admitted = 0
        self.answered: deque[float] = deque()  # monotonic times of the answers of the last RATE_WINDOW_S
        self._limiter: anyio.CapacityLimiter | None = None  # made on the event loop that runs the writes

    def seconds_per_write(self, now: float) -> float:
        """How long the queue has taken per write lately (1 s until two answers give a rate)."""
        while self.answered and now - self.answered[0] > RATE_WINDOW_S:
            self.answered.popleft()
        if len(self.answered) < 2:
            return 1.0
        return max(now - self.answered[0], 1e-3) / len(self.answered)

    def retry_after(self, now: float | None = None) -> int:
        """Seconds for half the admitted writes to be answered at the recent rate: room for a new one, with
        refused clients spread out rather than back at once."""
        now = time.monotonic() if now is None else now
        return max(1, math.ceil(self.admitted / 2 * self.seconds_per_write(now)))

    def refusal(self) -> ServiceError:
        wait = self.retry_after()
        return ServiceError(429, "too many writes",
                            f"{self.admitted} writes are waiting or being written, the most this service queues "
                            f"(ZHSEARCH_MAX_WRITES={self.limit}); retry in {wait} s, or send more articles per "
                            "request (up to 100)", headers={"Retry-After": str(wait)})

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
            self.answered.append(time.monotonic())
