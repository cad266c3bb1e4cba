"""Things built once into the cache folder (model folders, ONNX graphs): locked, renamed into place whole."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `lock_path` (blocks until free; released on exit or crash)."""
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_path(path: Path) -> None:
    """Remove a file or folder tree, if there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def replace_path(src: Path, dest: Path) -> None:
    """Rename `src` (file or folder) to `dest`, moving any old `dest` aside first (rename cannot overwrite a folder)."""
    old = None
    if dest.exists():
        old = dest.parent / f".{dest.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        os.replace(dest, old)
    os.replace(src, dest)
    if old is not None:
        remove_path(old)


def temporary_beside(dest: Path) -> Path:
    """A fresh hidden name in `dest`'s folder for building `dest` (nothing is created)."""
    return dest.parent / f".{dest.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def write_via_temporary(dest: Path, write: Callable[[Path], None]) -> Path:
    """`write(tmp)` into a fresh temporary path beside `dest`, then rename it to `dest`: never seen half-written."""
    tmp = temporary_beside(dest)
    try:
        write(tmp)
        replace_path(tmp, dest)
    except BaseException:
        remove_path(tmp)
        raise
    return dest


def build_once(dest: Path, is_complete: Callable[[Path], bool], build: Callable[[Path], object]) -> Path:
    """`dest`, built by `build(dest)` unless already complete.

    Concurrent callers serialise on a lock file beside `dest`; those that get the lock after a
    build find `dest` complete.
    """
    if is_complete(dest):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(dest.parent / f".{dest.name}.lock"):
        if not is_complete(dest):
            build(dest)
    return dest
