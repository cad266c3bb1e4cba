"""The service's searcher holder: reloads on a new generation, and keeps the loaded index out of the GC's scans."""

import gc
import threading
import weakref

from api.holder import DeferredSettle, SearcherHolder
from index.builder import build_index
from index.tokenize import tokenizer_from


def test_loaded_index_is_frozen_and_a_replaced_searcher_is_freed(settings, tiny_articles, fake_encoder):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    holder = SearcherHolder(settings, fake_encoder)
    try:
        holder.load()
        assert holder.problem == "" and gc.get_freeze_count() > 0
        first = weakref.ref(holder.get())
        build_index(settings.index_dir, tiny_articles[:2], tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
        second = holder.get()  # CURRENT changed: reopened; its settle waits for writes to pause
        holder.settle.flush()
        assert second is not None and first() is None
        assert len(second.snapshot.docs.articles) == 2
    finally:
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
