"""Whoosh's compound-segment sub-files read in place from the segment's memory map, not copied.

Whoosh opens each sub-file of a memory-mapped compound segment as a `BufferFile` whose file
object is `BytesIO(memoryview)`: a heap copy of every sub-file of every open searcher (sizes in
docs/performance.md). Here the file object is an `io.BufferedReader` over a raw reader of the memoryview:
reads from its buffer run in C, refills and far seeks copy only the bytes asked for. Invariants:
each sub-file keeps its own position, as with BytesIO; the map is read-only and shared.

`index/store/bm25_store.py` calls `install()`, so every Whoosh index this project opens uses it.
"""

from __future__ import annotations

import io

from whoosh.filedb import structfile

READ_BUFFER = 16 * 1024  # bytes BufferedReader fetches a time: varint-by-varint reads stay in C


class MemoryRaw(io.RawIOBase):
    """A read-only, seekable raw file over a buffer (a memoryview of a memory map); never copies it whole."""

    def __init__(self, buf) -> None:
        super().__init__()
        self._view = memoryview(buf).cast("B")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        count = max(0, min(len(target), len(self._view) - self._pos))
        target[:count] = self._view[self._pos:self._pos + count]
        self._pos += count
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        bases = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}
        if whence not in bases:
            raise ValueError(f"invalid whence ({whence}, should be 0, 1 or 2)")
        base = bases[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos


def memory_file(buf, buffer_size: int = READ_BUFFER) -> io.BufferedReader:
    """A file object reading `buf` in place, positioned at 0."""
    return io.BufferedReader(MemoryRaw(buf), buffer_size=buffer_size)


WHOOSH_INIT = structfile.BufferFile.__init__  # Whoosh's own, kept for the test that compares the two


def _buffer_file_init(self, buf, name=None, onclose=None) -> None:
    """BufferFile.__init__ as Whoosh 2.7 writes it, with `memory_file(buf)` for `BytesIO(buf)`."""
    self._buf = buf
    self._name = name
    self.file = memory_file(buf)
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


def install() -> None:
    """Make Whoosh's BufferFile read its buffer in place (idempotent)."""
    structfile.BufferFile.__init__ = _buffer_file_init
