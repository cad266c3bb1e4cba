"""Zeroed score accumulators lent to BM25 queries, shared by a process's snapshots.

A query adds its terms' scores into a float64 array of one slot per row (search/embedded/collection.py).
Each snapshot kept its own spares, so every commit point (a write a second in a feed) made each
query thread allocate a new one: 0.8 MB a thread at 100k paragraphs, 8 MB at 1M, freed with the
snapshot it served; glibc keeps such freed blocks in its heaps. Here one pool serves every snapshot:
an array's length is rounded up to ROUND rows, so one made before a few writes still fits after them.
"""

from __future__ import annotations

import threading

import numpy as np

ROUND = 65536  # rows an array's length is rounded up to (512 KB of float64)
KEEP = 64  # arrays kept at most (the most queries scored at once, in practice)


def capacity(size: int) -> int:
    """The length of an array made for `size` rows: `size` rounded up to ROUND (at least ROUND)."""
    return max(1, -(-size // ROUND)) * ROUND


class Accumulators:
    """Lends zeroed float64 arrays of at least a given length; thread-safe.

    Invariant: every array in the pool is all zeros, and its length is a capacity(). `take(size)` gives a
    view of the first `size` slots of a pooled array whose length is capacity(size) (or a new one); `give_back`
    takes that view back, zeroed by the caller. Arrays of another capacity are left to be freed as sizes move
    (the pool holds at most KEEP).
    """

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._free: list[np.ndarray] = []
        self._lock = threading.Lock()

    def take(self, size: int) -> np.ndarray:
        """A zeroed view of `size` slots."""
        wanted = capacity(size)
        with self._lock:
            self._free = [a for a in self._free if len(a) == wanted]  # others belong to sizes gone by
            whole = self._free.pop() if self._free else None
        if whole is None:
            whole = np.zeros(wanted, dtype=np.float64)
        return whole[:size]

    def give_back(self, acc: np.ndarray) -> None:
        """Return a view from `take`, all zeros again."""
        whole = acc.base if acc.base is not None else acc
        with self._lock:
            if len(self._free) < self.keep:
                self._free.append(whole)

    def __len__(self) -> int:
        return len(self._free)


SHARED = Accumulators()  # the process's pool: every Collection's unless it is given another
