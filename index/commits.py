"""Commit points on disk, the write lock, and removing what no commit point needs any more.

An index folder holds:

    CURRENT                      the name of the latest commit point (replaced atomically)
    commit-00000042.json         commit points (index/manifest.py), the newest KEEP_COMMITS + 1 kept
    seg-<id>/                    segments (index/store/segment.py), immutable once listed
    del-<segment>-<generation>.json   a segment's tombstones (every deleted row), immutable
    tmp-w-<id>/, tmp-m-<id>/     a segment being written by a writer or a merge (not yet listed)
    write.lock, merge.lock       one writer and one merge at a time, across processes

A commit is durable before it is visible: the segment and tombstone files are fsynced, then the
commit point, then `CURRENT` is replaced and the folder fsynced. A crash at any moment leaves the
previous commit point current; what it did not list is removed by the next writer (`remove_unreferenced`).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from index.manifest import IndexMismatchError, Manifest, read_manifest
from index.store.durable import fsync_dir, write_atomic

log = logging.getLogger("zhsearch.commits")
CURRENT_FILE = "CURRENT"
COMMIT_PREFIX = "commit-"
LOCK_FILE = "write.lock"
MERGE_LOCK_FILE = "merge.lock"
WRITER_TMP = "tmp-w-"  # a writer's segment in progress: dead unless its writer holds the write lock
MERGE_TMP = "tmp-m-"  # a merge's segment in progress: dead unless a merge holds the merge lock
DATA_PREFIXES = ("seg-", "gen-", "del-")  # listed by commit points, or removable
KEEP_COMMITS = 2  # earlier commit points kept (with what they list): a reader may be opening one right now
LEGACY_PREFIX = "gen-"  # format 2: CURRENT named a generation folder


class IndexNotFoundError(FileNotFoundError):
    """No complete index in the folder; the message says how to build one."""


class WriterBusyError(RuntimeError):
    """Another process holds the index's write lock."""


def commit_file(generation: int) -> str:
    return f"{COMMIT_PREFIX}{generation:08d}.json"


def unique_name(prefix: str) -> str:
    """A folder name that no other process or moment produces: time, a counter-like nanosecond part and the pid."""
    return f"{prefix}{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**9:09d}-{os.getpid()}"


def current_name(index_dir: Path) -> str:
    """What CURRENT names, or IndexNotFoundError with the fix."""
    pointer = index_dir / CURRENT_FILE
    try:
        return pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexNotFoundError(
            f"no index in {index_dir}: build one with `zhsearch index seeds --index-dir {index_dir}`"
        ) from None


def is_legacy(index_dir: Path) -> bool:
    """True for an index from before segments (CURRENT names a generation folder)."""
    return current_name(index_dir).startswith(LEGACY_PREFIX)


def read_current(index_dir: Path) -> tuple[str, Manifest]:
    """(the current commit point's file name, its contents); IndexNotFoundError or IndexMismatchError with the fix."""
    name = current_name(index_dir)
    if name.startswith(LEGACY_PREFIX):
        raise IndexMismatchError(
            f"{index_dir} is an index from before segments (format 2): run `zhsearch upgrade --index-dir {index_dir}` "
            "(keeps its vectors) or rebuild with `zhsearch index`"
        )
    try:
        return name, read_manifest(index_dir / name)
    except FileNotFoundError:
        raise IndexNotFoundError(
            f"{index_dir / CURRENT_FILE} names {name}, which is missing: rebuild with "
            f"`zhsearch index PATH --index-dir {index_dir}`"
        ) from None


def write_commit(index_dir: Path, manifest: Manifest) -> str:
    """Write `manifest` as commit point `manifest.generation` and make it current (each step fsynced)."""
    name = commit_file(manifest.generation)
    write_atomic(index_dir / name, manifest.model_dump_json(indent=1))
    write_atomic(index_dir / CURRENT_FILE, name + "\n")
    return name


def _try_lock(handle) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


@contextmanager
def write_lock(index_dir: Path, timeout: float = 30.0) -> Iterator[None]:
    """Hold the index's exclusive write lock (across processes), waiting up to `timeout` seconds."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK_FILE, "a+") as handle:
        deadline = time.monotonic() + timeout
        while not _try_lock(handle):
            if time.monotonic() >= deadline:
                raise WriterBusyError(
                    f"another writer holds {index_dir / LOCK_FILE} for over {timeout:.0f} s; retry when it is done"
                )
            time.sleep(0.01)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def merge_lock(index_dir: Path) -> Iterator[bool]:
    """Try to hold the merge lock without waiting: yields True when held, False when another merge runs."""
    with open(index_dir / MERGE_LOCK_FILE, "a+") as handle:
        held = _try_lock(handle)
        try:
            yield held
        finally:
            if held:
                fcntl.flock(handle, fcntl.LOCK_UN)


def merge_running(index_dir: Path) -> bool:
    """True while some process holds the merge lock."""
    with merge_lock(index_dir) as held:
        return not held


def commit_points(index_dir: Path) -> list[str]:
    """Commit point files present, oldest first."""
    return sorted(p.name for p in index_dir.glob(f"{COMMIT_PREFIX}*.json"))


class UnreadableCommitError(RuntimeError):
    """The current commit point cannot be read: nothing is removed (what it lists is unknown)."""


def referenced(index_dir: Path, keep: int = KEEP_COMMITS) -> set[str]:
    """Names the current commit point and the `keep` before it list (segments, tombstones, themselves).

    Raises UnreadableCommitError when CURRENT names a missing or damaged commit point: then every
    segment may be needed (a restore from an older commit point by hand), so none may be removed.
    """
    try:
        current = current_name(index_dir)
    except IndexNotFoundError:
        return set()
    names = {current}
    if current.startswith(LEGACY_PREFIX):
        return names
    try:
        manifests = [read_manifest(index_dir / current)]
    except (OSError, ValueError) as err:
        raise UnreadableCommitError(f"{index_dir / current} cannot be read ({err}): nothing was removed; "
                                    "run `zhsearch check`") from err
    older = [n for n in commit_points(index_dir) if n < current][-keep:] if keep else []
    for name in older:
        try:
            manifests.append(read_manifest(index_dir / name))
            names.add(name)
        except (OSError, ValueError):  # an older one half-removed: what it alone listed may go
            continue
    for manifest in manifests:
        for segment in manifest.segments:
            names.add(segment.name)
            if segment.deletes:
                names.add(segment.deletes)
    return names


def remove_unreferenced(index_dir: Path) -> list[str]:
    """Delete what no kept commit point lists: older commit points, segments and tombstones, dead temporary
    segments. Call only while holding the write lock (no writer is filling a temporary segment then).

    The folder is listed before the merge lock is looked at: a merge that starts after the listing
    creates its temporary folder after it too, so it is never in the list.
    """
    keep = referenced(index_dir)
    entries = list(index_dir.iterdir())
    merging = merge_running(index_dir)
    removed = []
    for path in entries:
        name = path.name
        stale = (
            (name.startswith(COMMIT_PREFIX) and name not in keep)
            or (name.startswith(DATA_PREFIXES) and name not in keep)
            or name.startswith(WRITER_TMP)
            or (name.startswith(MERGE_TMP) and not merging)
            or (name.startswith(".") and ".tmp-" in name)  # an atomic write that was cut short
        )
        if stale:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(name)
    if removed:
        fsync_dir(index_dir)
    return sorted(removed)


def tidy(index_dir: Path) -> list[str]:
    """`remove_unreferenced` after a commit: a failure is logged, never raised (the commit is durable already,
    and what is left is removed by the next writer)."""
    try:
        return remove_unreferenced(index_dir)
    except (OSError, UnreadableCommitError) as err:
        log.warning("clean-up after a commit failed (the next writer retries): %s", err)
        return []
