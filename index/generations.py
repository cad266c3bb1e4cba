"""Index generations: a build writes a new folder and switches `CURRENT` to it only when complete."""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

CURRENT_FILE = "CURRENT"
GENERATION_PREFIX = "gen-"
LOCK_FILE = "write.lock"
MANIFEST_FILE = "manifest.json"  # the same name index.manifest writes last
KEEP_OLD = 1  # previous generations kept after a switch (a reader may still hold one open)


class IndexNotFoundError(FileNotFoundError):
    """No complete index in the folder; the message says how to build one."""


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def new_generation(index_dir: Path) -> Path:
    """A fresh, empty generation folder inside `index_dir` (not yet current)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"{GENERATION_PREFIX}{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**9:09d}-{os.getpid()}"
    folder = index_dir / name
    folder.mkdir()
    return folder


def commit_generation(index_dir: Path, generation: Path) -> None:
    """Make `generation` current with fsync and an atomic rename, then drop old generations."""
    tmp = index_dir / f"{CURRENT_FILE}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(generation.name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, index_dir / CURRENT_FILE)
    _fsync_dir(index_dir)
    _remove_old(index_dir, keep={generation.name})


def _remove_old(index_dir: Path, keep: set[str]) -> None:
    """Delete generations other than `keep` and the KEEP_OLD newest before it."""
    others = sorted((p for p in index_dir.glob(f"{GENERATION_PREFIX}*") if p.name not in keep), reverse=True)
    for folder in others[KEEP_OLD:]:
        shutil.rmtree(folder, ignore_errors=True)


def current_generation(index_dir: Path) -> Path:
    """The folder of the current complete generation, or IndexNotFoundError with the fix."""
    pointer = index_dir / CURRENT_FILE
    if not pointer.is_file():
        raise IndexNotFoundError(
            f"no index in {index_dir}: build one with `zhsearch index seeds --index-dir {index_dir}`"
        )
    folder = index_dir / pointer.read_text(encoding="utf-8").strip()
    if not folder.is_dir():
        raise IndexNotFoundError(
            f"{pointer} names {folder.name}, which is missing: rebuild with `zhsearch index PATH --index-dir {index_dir}`"
        )
    return folder


class WriterBusyError(RuntimeError):
    """Another process holds the index's write lock."""


@contextmanager
def write_lock(index_dir: Path, timeout: float = 30.0) -> Iterator[None]:
    """Hold the index's exclusive write lock (across processes), waiting up to `timeout` seconds."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK_FILE, "a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WriterBusyError(
                        f"another writer holds {index_dir / LOCK_FILE} for over {timeout:.0f} s; retry when it is done"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_unfinished(index_dir: Path) -> list[str]:
    """Delete generation folders without a manifest other than the current one (a crashed build).

    Call only while holding the write lock: no other writer can be filling one then.
    """
    try:
        current = current_generation(index_dir).name
    except FileNotFoundError:
        current = ""
    removed = []
    for folder in index_dir.glob(f"{GENERATION_PREFIX}*"):
        if folder.name != current and not (folder / MANIFEST_FILE).is_file():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed


def sync_folder(folder: Path) -> None:
    """fsync every file and folder under `folder`, so a manifest written after it never outlives its data."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    for path in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        _fsync_dir(path)
