"""The live searcher of a running service: opened once, swapped atomically when a new generation lands."""

from __future__ import annotations

import gc
import threading

from index.embed import Encoder, ModelLoadError, SentenceTransformerEncoder
from index.generations import CURRENT_FILE, IndexNotFoundError
from index.manifest import IndexMismatchError
from index.settings import Settings
from search.engine import open_searcher
from search.hybrid import Searcher
from search.query_batcher import BatchingEncoder

LOAD_ERRORS = (IndexNotFoundError, IndexMismatchError, ModelLoadError, FileNotFoundError)


def settle_heap() -> None:
    """Collect once, then move every object alive now out of the cyclic collector's reach.

    A loaded index is many long-lived objects (at 100k paragraphs ~680k; a full collection
    of them takes ~0.4 s), and a full collection, whenever allocations trigger one, stalls
    every request in flight: that was the 8-client p99. Frozen objects are still freed by
    reference counting; unfreezing before the collection lets it reclaim the cycles of a
    searcher just replaced (one still in use by a request stays frozen until the next load).
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class SearcherHolder:
    """Hands out the searcher of the current generation.

    Invariant: a request gets one Searcher and uses it throughout, so it sees one
    generation whole; a newer generation (from this service's writes or another
    process's) replaces the reference for later requests, never mid-request.
    """

    def __init__(self, settings: Settings, encoder: Encoder | None = None) -> None:
        self.settings = settings
        # Requests run in threads: concurrent queries are encoded together (search/query_batcher.py).
        self.encoder = BatchingEncoder(encoder) if encoder else None
        self.searcher: Searcher | None = None
        self.problem = ""
        self._seen: int | None = None  # mtime_ns of CURRENT when the searcher was opened
        self._lock = threading.Lock()

    def _current_mtime(self) -> int | None:
        try:
            return (self.settings.index_dir / CURRENT_FILE).stat().st_mtime_ns
        except OSError:
            return None

    def load(self) -> None:
        """Open (or reopen) the current generation; on failure keep the old searcher and say why."""
        with self._lock:
            seen = self._current_mtime()
            try:
                self.encoder = self.encoder or BatchingEncoder(SentenceTransformerEncoder(self.settings), torch_threads=1)
                self.searcher = open_searcher(self.settings, self.encoder)
                self.problem = ""
                settle_heap()
            except LOAD_ERRORS as err:
                self.problem = str(err)
            except Exception as err:  # unreadable files: report, keep serving what we had
                self.problem = (f"index in {self.settings.index_dir} is unreadable ({type(err).__name__}: {err}); "
                                f"run `zhsearch check --index-dir {self.settings.index_dir}` and rebuild with `zhsearch index`")
            self._seen = seen

    def get(self) -> Searcher | None:
        """The searcher, reopened first if CURRENT changed since it was opened."""
        if self._current_mtime() != self._seen:
            self.load()
        return self.searcher
