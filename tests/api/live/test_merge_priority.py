"""Merges run nicer than the service, in a child forked from a server that imported index.merge once."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from multiprocessing import forkserver

from index.builder import build_index
from index.check import check_index
from index.commits import read_current
from index.merge_policy import choose_merge
from index.models import Article
from index.tokenize import tokenizer_from
from index.writer import apply_update


def test_the_merge_child_is_started_nicer(tmp_path, monkeypatch):
    from api.live import merge_scheduler

    started = []

    class Refused:
        def __init__(self, target, args, name):
            started.append((target, args))

        def start(self):
            raise OSError("not really")

    monkeypatch.setattr(merge_scheduler.MergeScheduler, "_start_server", lambda self: None)
    scheduler = merge_scheduler.MergeScheduler(tmp_path, 20000, lambda: None, niceness=9)
    monkeypatch.setattr(scheduler._context, "Process", Refused)
    monkeypatch.setattr(scheduler, "_due", lambda: True)
    scheduler._run_once()  # a child that cannot start is logged, not raised
    assert started == [(merge_scheduler.merge_process, (tmp_path.resolve(), 20000, False, 9))]
    assert scheduler._child is None


def test_index_merge_lowers_its_own_priority_when_asked(tmp_path, monkeypatch):
    from index import merge

    calls = []
    monkeypatch.setattr(merge.os, "nice", calls.append, raising=False)
    monkeypatch.setattr(merge, "run_merges", lambda *args, **kwargs: 0)
    monkeypatch.setattr(sys, "argv", ["index.merge", "--index-dir", str(tmp_path), "--nice", "5"])
    merge.main()
    monkeypatch.setattr(sys, "argv", ["index.merge", "--index-dir", str(tmp_path)])
    merge.main()
    assert calls == [5]


def test_merges_run_in_forked_children_that_exit(settings, tiny_articles, fake_encoder):
    """A due merge runs in a child of the fork server (not of this process), which exits; the merged commit point
    is then current and the service is told."""
    from api.live.merge_scheduler import MergeScheduler

    tokenizer = tokenizer_from(settings)
    build_index(settings.index_dir, tiny_articles, tokenizer, fake_encoder, ["tiny"], quiet=True)
    for i in range(8):  # nine small segments: the default policy merges some
        article = Article(f"m{i}", f"第{i}篇", (f"第{i}篇讲职工培训。",))
        apply_update(settings.index_dir, [article], [], tokenizer, fake_encoder)
    before = read_current(settings.index_dir)[1].segments
    done = []
    scheduler = MergeScheduler(settings.index_dir, 20000, lambda: done.append(1))
    scheduler.start()
    try:
        scheduler.request()
        deadline = time.monotonic() + 60
        while not done and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.stop()
    after = read_current(settings.index_dir)[1].segments
    assert done and len(after) < len(before) and choose_merge(after) == []  # every due merge ran
    assert check_index(settings.index_dir)[1] == []
    assert scheduler._child is None and multiprocessing.active_children() == []  # joined
    assert forkserver._forkserver._forkserver_pid not in (None, os.getpid())
