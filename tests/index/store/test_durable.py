"""Durable files: sync_tree flushes every file and folder under a segment, and a failed flush is raised."""

from __future__ import annotations

import errno
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from index.store import durable


def tree(root: Path) -> set[str]:
    """A segment-like tree: files at two depths and an empty folder; every path in it."""
    (root / "bm25").mkdir()
    (root / "empty").mkdir()
    for name in ("docs.jsonl", "vectors.faiss", "bm25/codes.npy", "bm25/terms.json"):
        (root / name).write_bytes(os.urandom(100))
    return {str(root), *(str(p) for p in root.rglob("*"))}


def flushed_paths(monkeypatch) -> list[str]:
    """Record the path behind each fd that os.fsync is called on (from any thread)."""
    seen, lock, real = [], threading.Lock(), os.fsync

    def fsync(fd: int) -> None:
        with lock:
            seen.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(durable.os, "fsync", fsync)
    return seen


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name an fd's file")
def test_sync_tree_flushes_every_file_and_folder_once(tmp_path, monkeypatch):
    expected = tree(tmp_path)
    seen = flushed_paths(monkeypatch)
    durable.sync_tree(tmp_path)
    assert sorted(seen) == sorted(expected)


def test_a_failed_flush_is_raised(tmp_path, monkeypatch):
    tree(tmp_path)
    real = os.fsync

    def full(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("codes.npy"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd)

    monkeypatch.setattr(durable.os, "fsync", full)
    with pytest.raises(OSError) as raised:
        durable.sync_tree(tmp_path)
    assert raised.value.errno == errno.ENOSPC


def test_a_forked_child_syncs_on_its_own_pool(tmp_path):
    tree(tmp_path)
    durable.sync_tree(tmp_path)  # the parent's pool now has threads; a fork has none of them
    pid = os.fork()
    if pid == 0:
        try:
            durable.sync_tree(tmp_path)
            os._exit(0)
        except BaseException:
            os._exit(1)
    deadline = time.monotonic() + 30
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if done[0] == 0:  # waiting on threads the fork does not have
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("sync_tree in a forked child hung")
    assert os.waitstatus_to_exitcode(done[1]) == 0
