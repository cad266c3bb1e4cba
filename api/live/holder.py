"""The live searcher of a running service: opened once, swapped atomically when a new commit point lands."""

from __future__ import annotations

import gc
import threading
from typing import Callable, Protocol

from index.commits import CURRENT_FILE, IndexNotFoundError, UnreadableCommitError
from index.model.embed import Encoder, ModelLoadError
from index.model.heap import release_free_memory
from index.model.onnx.encoder import usable_cpus
from index.model.runtime import load_encoder
from index.manifest import IndexMismatchError
from index.milvus.connection import MilvusConfigError, MilvusUnavailableError
from index.milvus.record import CorpusNotFoundError
from index.settings import Settings
from search.engine import open_searcher
from search.hybrid import Searcher
from search.serving.query_batcher import BatchingEncoder
from search.synonyms.rules import SynonymFileError

LOAD_ERRORS = (IndexNotFoundError, IndexMismatchError, ModelLoadError, FileNotFoundError, UnreadableCommitError,
               SynonymFileError, MilvusConfigError, MilvusUnavailableError, CorpusNotFoundError)


def settle_heap() -> None:
    """Collect once, then move every object alive now out of the cyclic collector's reach.

    The model's and libraries' objects and a loaded index are many long-lived objects (with
    a 100k index ~680k; a full collection of them takes ~0.4 s, with the seed index ~0.3 s),
    and a full collection, whenever allocations trigger one, stalls every request in flight:
    that was the 8-client p99. Frozen objects are still freed by reference counting;
    unfreezing before the collection lets it reclaim the cycles of searchers replaced since.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    release_free_memory()


# Seconds without a reload before the heap is settled. A settle is a full collection: at 100k paragraphs it stops
# every search for ~0.3 s, so during a feed (a write every second or three) it must wait for the feed to pause.
SETTLE_AFTER = 30.0


def serving_threads(settings: Settings) -> int:
    """ONNX Runtime's threads in the service: every CPU but one, which a hybrid query's BM25 leg and the HTTP
    threads take meanwhile (2 cores, 10k bench index, against 2 threads: hybrid p50 x0.90, 8 clients x1.08)."""
    return settings.model_threads or max(1, usable_cpus() - 1)


def serving_encoder(settings: Settings) -> BatchingEncoder:
    """The service's encoder: concurrent queries share a forward pass; under auto every side on ONNX Runtime
    (index/model/runtime.plan, `serving`), on `serving_threads`; torch, where named, on one thread
    (search/serving/query_batcher.py says why)."""
    encoder = load_encoder(settings.model_copy(update={"model_threads": serving_threads(settings)}), serving=True)
    encoder.encode_queries(["工会"])  # every runtime a lone query needs loaded now, not at the first user's query
    if hasattr(encoder, "warm_up"):  # its memory at its full size now, not after the first long article posted
        encoder.warm_up()
    # An encoder without a `runtime` (a test's fake) is treated as torch: one thread, the safe choice.
    return BatchingEncoder(encoder, torch_threads=1 if getattr(encoder, "runtime", "torch") == "torch" else None)

class Timer(Protocol):
    """What DeferredSettle needs of a timer: threading.Timer's start and cancel."""

    daemon: bool

    def start(self) -> None: ...

    def cancel(self) -> None: ...


TimerFactory = Callable[[float, Callable[[], None]], Timer]


class DeferredSettle:
    """`action` (settle_heap) once reloads have been quiet for `delay` seconds (a burst of writes pays once).

    Invariant: the action runs once per quiet period: when the timer of the latest `request()` fires
    (`delay` seconds later, on a timer thread), or at `flush()` if that comes first. A timer made for
    an earlier request does nothing, even if it fires before its cancel lands. Until then new objects
    are collected as usual. `timer` makes the timers (threading.Timer; tests pass one they fire).
    """

    def __init__(self, delay: float = 2.0, action: Callable[[], None] = settle_heap,
                 timer: TimerFactory = threading.Timer) -> None:
        self.delay = delay
        self.action = action
        self._make_timer = timer
        self._timer: Timer | None = None
        self._requests = 0  # requests so far; a timer carries the number of the request it was made for
        self._lock = threading.Lock()

    def request(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._requests += 1
            number = self._requests
            self._timer = self._make_timer(self.delay, lambda: self._run(number))
            self._timer.daemon = True
            self._timer.start()

    def _run(self, number: int) -> None:
        with self._lock:
            if number != self._requests or self._timer is None:  # a newer request, or flushed already
                return
            self._timer = None
        self.action()

    def flush(self) -> None:
        """Run a pending settle now (tests use it to wait for one)."""
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
            self.action()


class SearcherHolder:
    """Hands out the searcher of the current commit point.

    Invariant: a request gets one Searcher and uses it throughout, so it sees one commit point
    whole; a newer one (this service's writes, merges, another process's writes) replaces the
    reference for later requests, never mid-request. Opening a new commit point reuses every
    segment already open, and happens off the request path: in the write that made it (which
    answers only once it is visible) or in the watcher thread, which looks at CURRENT every
    `poll_seconds` for writes from other processes.
    """

    def __init__(self, settings: Settings, encoder: Encoder | None = None, poll_seconds: float = 0.5) -> None:
        self.settings = settings
        # Requests run in threads: concurrent queries are encoded together (search/serving/query_batcher.py).
        self.encoder = BatchingEncoder(encoder) if encoder else None
        self.searcher: Searcher | None = None
        self.problem = ""
        self.poll_seconds = poll_seconds
        self._seen: str | None = None  # what CURRENT named when the searcher was opened
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self.settle = DeferredSettle(SETTLE_AFTER)

    def _current(self) -> str | None:
        """What CURRENT names now (None: unreadable). Compared by name, not mtime: two commits within one
        timestamp tick of a coarse filesystem still differ. For a Milvus corpus: its version in Milvus."""
        if self.settings.backend == "milvus":
            searcher = self.searcher
            try:
                return searcher.corpus.version_now() if searcher is not None else None
            except MilvusUnavailableError:
                return self._seen  # nothing to reopen while Milvus does not answer (requests say why)
        try:
            return (self.settings.index_dir / CURRENT_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            return None

    def load(self) -> None:
        """Open (or reopen) the current commit point; on failure keep the old searcher, say why, and let the
        next refresh try again.

        A reload hands glibc's free pages back to the system at once (release_free_memory, ~2 ms at 100k):
        each write's passes, segment and replaced searcher free memory that glibc would otherwise keep while
        writes flow. Over a 60 s feed beside 8 clients at 100k the server's RSS grew by 8.0 and 8.2 MB without it
        (3.6 MB of data written), by -4.3 to -0.7 MB with it (four runs).
        """
        with self._lock:
            seen = self._current()
            try:
                self.encoder = self.encoder or serving_encoder(self.settings)
                first = self.searcher is None
                opened = open_searcher(self.settings, self.encoder, self.searcher)
                if opened is not self.searcher:
                    self.searcher = opened
                    if first:  # at start-up nothing waits on us
                        settle_heap()
                    else:  # a reload (after a write): its free pages go back now, a collection once writes pause
                        release_free_memory()
                        self.settle.request()
                self.problem = ""
                self._seen = seen
            except LOAD_ERRORS as err:
                self.problem = str(err)
            except Exception as err:  # unreadable files: report, keep serving what we had
                self.problem = (f"index in {self.settings.index_dir} is unreadable ({type(err).__name__}: {err}); "
                                f"run `zhsearch check --index-dir {self.settings.index_dir}` and rebuild with `zhsearch index`")

    def refresh(self) -> None:
        """Reopen if CURRENT names another commit point than the one opened (or nothing is loaded yet)."""
        if self.searcher is None or self._current() != self._seen:
            self.load()

    def get(self) -> Searcher | None:
        """The searcher of the newest commit point opened (never waits for an open)."""
        return self.searcher

    def watch(self) -> None:
        """Start the watcher thread (idempotent): `refresh` every `poll_seconds` until `stop`."""
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="zhsearch-watch", daemon=True)
            self._watcher.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self.refresh()

    def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
