"""Three fixes to Whoosh 2.7 (Whoosh-Reloaded 2.7.5), installed by index/store/bm25_store.py for every index we open.

- Segment names from the OS's randomness. Whoosh draws them from the global `random`, which a
  caller (a test framework, a simulation) may seed; a repeated name collides with a segment the
  folder already holds and fails the commit.
- `a AND NOT b` when b's first document comes before a's. `AndNotMatcher._find_first` skips b
  forward only when both start on the same document, so with a = {5, 6, 7} and b = {3, 5, 6, 7}
  it reported 5 as a match (found by tests/search/embedded/test_collection.py's property test). `_find_next`
  already handles b being behind; the fix calls it whenever both are active.
- In-memory indexes' temporary files in a folder of their own. A RamStorage writer keeps them in
  `<tmp>/MAIN.tmp`, the same folder for every in-memory index of every process, and when it finishes
  it deletes that folder with whatever is in it: another writer's files (a write's small segment in
  another process, Milvus's phrase check in another search thread) vanish under it, and its commit
  fails (FileNotFoundError; seen with two test suites at once). Each RamStorage now has a folder of
  its own (`tempfile.mkdtemp`), made again if a finished writer deleted it; `ram_storage()` removes it
  when its block ends, also after a writer that failed before deleting it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from whoosh.codec.base import Segment as WhooshSegment
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.matching.binary import AndNotMatcher

TEMP_PREFIX = "zhsearch-whoosh-"  # an in-memory index's temporary folder (removed when its writer finishes)


def _unrepeatable_segment_id(cls, size: int = 16) -> str:
    return secrets.token_hex(size // 2)


def _find_first(self) -> None:
    if self.a.is_active() and self.b.is_active():
        self._find_next()


def _own_temp_storage(self: RamStorage, name: str | None = None) -> FileStorage:
    """This in-memory index's temporary folder (every writer of it shares one, as Whoosh's own writers expect)."""
    folder = getattr(self, "_own_temp", None)
    if folder is None or not os.path.isdir(folder):  # none yet, or a finished writer removed it
        folder = self._own_temp = tempfile.mkdtemp(prefix=TEMP_PREFIX)
    return FileStorage(folder)


@contextmanager
def ram_storage() -> Iterator[RamStorage]:
    """An in-memory Whoosh storage whose temporary folder is gone when the block ends, whatever happened in it."""
    storage = RamStorage()
    try:
        yield storage
    finally:
        folder = getattr(storage, "_own_temp", None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def install() -> None:
    """Apply the three fixes (idempotent)."""
    WhooshSegment._random_id = classmethod(_unrepeatable_segment_id)
    AndNotMatcher._find_first = _find_first
    RamStorage.temp_storage = _own_temp_storage
