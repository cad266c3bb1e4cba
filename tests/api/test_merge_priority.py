"""Merges run nicer than the service: the merge process is started with --nice, and index.merge applies it."""

from __future__ import annotations

import sys


def test_the_merge_process_is_started_nicer(tmp_path, monkeypatch):
    from api import merge_scheduler

    started = []
    monkeypatch.setattr(merge_scheduler.subprocess, "Popen", lambda command, **kw: started.append(command) or
                        (_ for _ in ()).throw(OSError("not really")))
    scheduler = merge_scheduler.MergeScheduler(tmp_path, 20000, lambda: None, niceness=9)
    monkeypatch.setattr(scheduler, "_due", lambda: True)
    scheduler._run_once()
    assert started and started[0][-2:] == ["--nice", "9"]


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
