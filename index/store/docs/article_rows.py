"""Where each article of a segment lives (first row, rows), held compactly for a process that writes.

A writer looks up the articles it replaces or deletes in every segment's catalogue, and keeps each
catalogue while its segment lives. As a dict of str -> [int, int] the 100k bench segment's 42,703
articles took 8.1 MB of Python objects (at 1M ~80 MB). Here the ids' UTF-8 bytes lie in one blob,
ordered by the ids' hashes, beside four integer arrays: 1.4 MB, and a lookup is a binary search over
the hashes (numpy) and a comparison of bytes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class ArticleRows:
    """article id -> (first row, rows) of one segment. Hashes are this process's (str hashes are salted per
    process): the catalogue is never stored."""

    def __init__(self, ranges: dict[str, list[int]], hasher: Callable[[str], int] = hash) -> None:
        self._hash = hasher
        hashes = np.fromiter((hasher(a) for a in ranges), dtype=np.int64, count=len(ranges))
        order = np.argsort(hashes, kind="stable")
        ids = list(ranges)
        encoded = [ids[i].encode() for i in order]
        self._hashes = hashes[order]
        self._blob = b"".join(encoded)
        self._ends = np.cumsum([len(e) for e in encoded], dtype=np.int64)  # id i is blob[ends[i-1]:ends[i]]
        self._first = np.fromiter((ranges[ids[i]][0] for i in order), dtype=np.int64, count=len(ids))
        self._rows = np.fromiter((ranges[ids[i]][1] for i in order), dtype=np.int64, count=len(ids))

    def __len__(self) -> int:
        return len(self._ends)

    def _id(self, i: int) -> bytes:
        return self._blob[int(self._ends[i - 1]) if i else 0:int(self._ends[i])]

    def _find(self, article_id: str) -> int:
        """Its position, or -1 (ids of equal hashes are told apart by their bytes)."""
        wanted, key = self._hash(article_id), article_id.encode()
        at = int(np.searchsorted(self._hashes, wanted))
        while at < len(self) and self._hashes[at] == wanted:
            if self._id(at) == key:
                return at
            at += 1
        return -1

    def __contains__(self, article_id: object) -> bool:
        return isinstance(article_id, str) and self._find(article_id) >= 0

    def __getitem__(self, article_id: str) -> tuple[int, int]:
        at = self._find(article_id)
        if at < 0:
            raise KeyError(article_id)
        return int(self._first[at]), int(self._rows[at])
