"""Two fixes to Whoosh 2.7 (Whoosh-Reloaded 2.7.5), installed by index/store/bm25_store.py for every index we open.

- Segment names from the OS's randomness. Whoosh draws them from the global `random`, which a
  caller (a test framework, a simulation) may seed; a repeated name collides with a segment the
  folder already holds and fails the commit.
- `a AND NOT b` when b's first document comes before a's. `AndNotMatcher._find_first` skips b
  forward only when both start on the same document, so with a = {5, 6, 7} and b = {3, 5, 6, 7}
  it reported 5 as a match (found by tests/search/embedded/test_collection.py's property test). `_find_next`
  already handles b being behind; the fix calls it whenever both are active.
"""

from __future__ import annotations

import secrets

from whoosh.codec.base import Segment as WhooshSegment
from whoosh.matching.binary import AndNotMatcher


def _unrepeatable_segment_id(cls, size: int = 16) -> str:
    return secrets.token_hex(size // 2)


def _find_first(self) -> None:
    if self.a.is_active() and self.b.is_active():
        self._find_next()


def install() -> None:
    """Apply both fixes (idempotent)."""
    WhooshSegment._random_id = classmethod(_unrepeatable_segment_id)
    AndNotMatcher._find_first = _find_first
