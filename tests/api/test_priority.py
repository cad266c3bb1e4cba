"""Write work runs nicer than searches: the committer and embedding threads, and the merge process."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from api.priority import lower_thread_priority

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")


def niceness_of(thread_id: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, thread_id)


def test_a_thread_made_nicer_leaves_the_others_alone():
    seen = {}

    def work() -> None:
        lower_thread_priority(5)
        seen["nice"] = niceness_of(threading.get_native_id())

    base = niceness_of(threading.get_native_id())
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen["nice"] == min(base + 5, 19) and niceness_of(threading.get_native_id()) == base
    lower_thread_priority(0)  # nothing asked: nothing changes
    assert niceness_of(threading.get_native_id()) == base


def test_a_service_writes_at_its_write_niceness(settings, tiny_articles, fake_encoder):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from index.builder import build_index
    from index.tokenize import tokenizer_from

    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    settings = settings.model_copy(update={"write_token": "t", "write_nice": 7})
    base = niceness_of(threading.get_native_id())
    with TestClient(create_app(settings, encoder=fake_encoder, merges=False)) as client:
        answer = client.post("/articles", json={"articles": [{"id": "n1", "title": "新", "text": "新的段落。"}]},
                             headers={"Authorization": "Bearer t"})
        assert answer.status_code == 200
        writers = [t for t in threading.enumerate() if t.name.startswith(("zhsearch-write-embed", "zhsearch-group-commit"))]
        assert {t.name.split("_")[0] for t in writers} >= {"zhsearch-write-embed", "zhsearch-group-commit"}
        assert all(niceness_of(t.native_id) == min(base + 7, 19) for t in writers)
        assert client.get("/search", params={"q": "新的段落"}).status_code == 200


def test_the_merge_process_is_started_nicer(tmp_path, monkeypatch):
    from api import merge_scheduler

    started = []
    monkeypatch.setattr(merge_scheduler.subprocess, "Popen", lambda command, **kw: started.append(command) or
                        (_ for _ in ()).throw(OSError("not really")))
    scheduler = merge_scheduler.MergeScheduler(tmp_path, 20000, lambda: None, niceness=9)
    monkeypatch.setattr(scheduler, "_due", lambda: True)
    scheduler._run_once()
    assert started and started[0][-2:] == ["--nice", "9"]
