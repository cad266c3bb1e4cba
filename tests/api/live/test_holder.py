"""The service's searcher holder: reopens a new commit point off the request path, reusing segments, and keeps
the loaded index out of the GC's scans."""

import gc
import threading
import time
import weakref

from api.live.holder import DeferredSettle, SearcherHolder
from index.builder import build_index
from index.models import Article
from index.writer import apply_update
from index.tokenize import tokenizer_from


def test_loaded_index_is_frozen_and_a_replaced_searcher_is_freed(settings, tiny_articles, fake_encoder):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    holder = SearcherHolder(settings, fake_encoder)
    try:
        holder.load()
        assert holder.problem == "" and gc.get_freeze_count() > 0
        first = weakref.ref(holder.get())
        build_index(settings.index_dir, tiny_articles[:2], tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
        assert holder.get() is first()  # requests never wait for an open: the watcher (or a write) reopens
        holder.refresh()  # CURRENT changed: reopened; its settle waits for writes to pause
        second = holder.get()
        holder.settle.flush()
        assert second is not None and first() is None
        assert {a for a in ("a1", "a2", "a3") if second.corpus.snapshot.article(a)} == {"a1", "a2"}
    finally:
        gc.unfreeze()


def test_a_refresh_reuses_the_open_segments(settings, tiny_articles, fake_encoder):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    holder = SearcherHolder(settings, fake_encoder)
    holder.load()
    before = holder.get().corpus.snapshot.views[0].segment
    apply_update(settings.index_dir, [Article("n", "新", ("新的一段。",))], ["a3"], tokenizer_from(settings), fake_encoder)
    holder.refresh()
    views = holder.get().corpus.snapshot.views
    assert views[0].segment is before and len(views) == 2 and sorted(views[0].deleted_rows) == [3]
    assert holder.get().corpus.snapshot.article("n") is not None and holder.get().corpus.snapshot.article("a3") is None
    gc.unfreeze()


def test_a_reload_hands_free_memory_back_and_a_refresh_with_nothing_new_does_not(settings, tiny_articles,
                                                                               fake_encoder, monkeypatch):
    from api.live import holder as holder_module

    released: list[int] = []
    monkeypatch.setattr(holder_module, "release_free_memory", lambda: released.append(1))
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    holder = SearcherHolder(settings, fake_encoder)
    try:
        holder.load()  # the first open settles the heap (a collection, then the same release)
        first = len(released)
        holder.refresh()  # nothing new: no reopen, nothing released
        assert len(released) == first
        apply_update(settings.index_dir, [Article("n", "新", ("新的一段。",))], [], tokenizer_from(settings),
                     fake_encoder)
        holder.refresh()  # a new commit point: reopened, and its free pages handed back at once
        assert len(released) == first + 1 and holder.get().corpus.snapshot.article("n") is not None
    finally:
        holder.settle.flush()
        gc.unfreeze()


def test_the_watcher_picks_up_another_process_s_write(settings, tiny_articles, fake_encoder):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    holder = SearcherHolder(settings, fake_encoder, poll_seconds=0.01)
    holder.load()
    holder.watch()
    try:
        apply_update(settings.index_dir, [Article("n", "新", ("新的一段。",))], [], tokenizer_from(settings), fake_encoder)
        deadline = time.monotonic() + 30  # the watcher polls every 10 ms; a loaded machine may take far longer
        while holder.get().corpus.snapshot.article("n") is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert holder.get().corpus.snapshot.article("n") is not None
    finally:
        holder.stop()
        gc.unfreeze()


class HeldTimer:
    """A timer that fires only when the test says so (threading.Timer's interface)."""

    made: list["HeldTimer"] = []

    def __init__(self, delay: float, function) -> None:
        self.delay, self.function, self.cancelled, self.daemon = delay, function, False, False
        HeldTimer.made.append(self)

    def start(self) -> None:
        pass

    def cancel(self) -> None:
        self.cancelled = True

    def fire(self) -> None:
        self.function()


def test_a_burst_of_reloads_settles_once():
    runs = []
    HeldTimer.made = []
    settle = DeferredSettle(delay=2.0, action=lambda: runs.append(1), timer=HeldTimer)
    for _ in range(5):
        settle.request()
    assert runs == [] and [t.cancelled for t in HeldTimer.made] == [True] * 4 + [False]
    assert all(t.delay == 2.0 for t in HeldTimer.made)
    HeldTimer.made[0].fire()  # an earlier request's timer that fired before its cancel landed
    assert runs == []
    HeldTimer.made[-1].fire()
    assert runs == [1]
    HeldTimer.made[-1].fire()  # a timer runs its settle once
    settle.flush()  # nothing pending: nothing runs
    assert runs == [1]


def test_flush_runs_a_pending_settle_and_its_timer_then_does_nothing():
    runs = []
    HeldTimer.made = []
    settle = DeferredSettle(action=lambda: runs.append(1), timer=HeldTimer)
    settle.request()
    settle.flush()
    assert runs == [1] and HeldTimer.made[0].cancelled
    HeldTimer.made[0].fire()
    assert runs == [1]


def test_a_real_timer_settles_after_the_delay():
    settled = threading.Event()
    settle = DeferredSettle(delay=0.05, action=settled.set)
    settle.request()
    assert settled.wait(30)  # the delay is a lower bound; a loaded machine may take longer
