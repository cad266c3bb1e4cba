"""Index generations: a build writes a new folder and switches `CURRENT` to it only when complete."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

CURRENT_FILE = "CURRENT"
GENERATION_PREFIX = "gen-"
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
