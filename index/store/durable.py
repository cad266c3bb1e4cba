"""Durable files: fsync of files and folders, and writes that are whole or absent."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SYNC_THREADS = 8  # fsyncs in flight at once: the filesystem's journal commits them together (ext4: ~2x faster)

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _sync_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="fsync")
        return _pool


def _forget_pool() -> None:
    """In a forked child: the parent's pool threads do not exist there."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def fsync_path(path: Path) -> None:
    """Flush one file's data, or one folder's entries (new, renamed or removed names), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


fsync_file = fsync_dir = fsync_path  # the same call; the names say what the caller flushes


def sync_tree(folder: Path) -> None:
    """fsync every file and folder under `folder`, so that a commit written after it never outlives its data.

    The fsyncs run at once on a small pool (each releases the interpreter's lock); all have returned, or the
    first failure is raised, before this returns."""
    list(_sync_pool().map(fsync_path, [folder, *sorted(folder.rglob("*"))]))


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the new one whole (fsync, rename, fsync dir)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)
