"""The vectors of recent query texts, so that a query asked again gets the very vector it got before.

A service encodes a lone query and a batch of concurrent ones on different runtimes
(index/model/runtime.py): their vectors agree to cosine >= 0.9998, not to the bit, so two near-tied
paragraphs could swap between page 1 (encoded in a batch) and page 2 (encoded alone), one shown
twice and the other never. Remembering the vector by its text keeps paging, a sort switch and a
facet click on one ranking, and spares the model the repeat.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Sequence

import numpy as np

RECENT_QUERIES = 8192  # query vectors kept (384 float32 each: ~13 MB for e5-small)


class RecentVectors:
    """A thread-safe least-recently-used map of query text -> its unit vector (read-only rows).

    Invariant: while a text is kept, every lookup returns the same array.
    """

    def __init__(self, capacity: int = RECENT_QUERIES) -> None:
        self.capacity = capacity
        self._kept: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        """Each text's kept vector, or None."""
        with self._lock:
            found = [self._kept.get(text) for text in texts]
            for text, vector in zip(texts, found):
                if vector is not None:
                    self._kept.move_to_end(text)
            return found

    def put(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Keep each text's vector unless one is kept already (the first one stays: see the invariant)."""
        with self._lock:
            for text, vector in zip(texts, vectors):
                if text not in self._kept:
                    row = np.array(vector, copy=True)
                    row.setflags(write=False)
                    self._kept[text] = row
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)
