"""A saved .npy array read with pread, never memory-mapped: what a lookup reads stays out of the process's memory.

A mapped file's pages count in the process's resident memory once touched, and the kernel maps up to 16
cached pages around each one touched: a service whose writes look up a few rows of a large segment's
array now and then ends up holding the whole array resident (the 100k index's near-duplicate marks:
~28 MB over a minute of writes). Read with pread, the same rows cost a system call each and no resident
memory; the operating system's page cache keeps them warm either way.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Sequence
from pathlib import Path

import numpy as np


class PagedArray:
    """A saved C-order .npy array, read on demand: rows (`a[i]`, `a[[i, j]]`), a row's span (`a[i, lo:hi]`), or all
    (`np.asarray(a)`).

    Invariant: the file is never changed while open (a segment's files are immutable). The open descriptor keeps
    it readable after the file is removed, as a mapping would, until the array is collected.
    """

    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            with os.fdopen(os.dup(fd), "rb") as handle:
                version = np.lib.format.read_magic(handle)
                fmt = np.lib.format
                header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
                shape, fortran, dtype = header(handle)
                offset = handle.tell()
        except BaseException:
            os.close(fd)
            raise
        if fortran or dtype.hasobject:
            os.close(fd)
            raise ValueError(f"{path}: a paged array must be C-order plain data")
        self.path, self.shape, self.dtype, self._offset, self._fd = path, tuple(shape), dtype, offset, fd
        self._row_items = int(np.prod(self.shape[1:], dtype=np.int64))
        weakref.finalize(self, os.close, fd)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        found = self._read(0, int(np.prod(self.shape, dtype=np.int64))).reshape(self.shape)
        return found if dtype is None else found.astype(dtype)

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return self.rows([int(key)])[0]
        if isinstance(key, tuple) and len(key) == 2 and isinstance(key[1], slice):  # one row's span
            if isinstance(key[0], (int, np.integer)):
                return self.span(int(key[0]), key[1])
        if isinstance(key, (list, np.ndarray)):
            return self.rows(key)
        raise TypeError(f"a paged array reads rows, a list of rows or one row's slice, not {key!r}")

    def span(self, row: int, columns: slice) -> np.ndarray:
        """Items `columns` of row `row` (a 2-D array)."""
        row = self._row_index(row)
        start, stop, step = columns.indices(self.shape[1])
        if step != 1:
            raise TypeError("a paged array's span has step 1")
        return self._read(row * self._row_items + start, max(stop - start, 0))

    def rows(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """Rows `rows`, in that order (each run of consecutive rows read at once)."""
        wanted = np.asarray(rows, dtype=np.int64).reshape(-1)
        wanted = np.where(wanted < 0, wanted + self.shape[0], wanted)
        if len(wanted) and (wanted.min() < 0 or wanted.max() >= self.shape[0]):
            raise IndexError(f"rows {np.asarray(rows).tolist()[:5]}... of a paged array of {self.shape[0]} rows")
        out = np.empty((len(wanted), *self.shape[1:]), dtype=self.dtype)
        starts = np.flatnonzero(np.diff(wanted, prepend=-2) != 1)  # where a run of consecutive rows begins
        for at, end in zip(starts.tolist(), [*starts[1:].tolist(), len(wanted)]):
            first = int(wanted[at])
            out[at:end] = self._read(first * self._row_items, (end - at) * self._row_items).reshape(out[at:end].shape)
        return out

    def _row_index(self, row: int) -> int:
        found = row + self.shape[0] if row < 0 else row
        if not 0 <= found < self.shape[0]:
            raise IndexError(f"row {row} of a paged array of {self.shape[0]} rows")
        return found

    def _read(self, first_item: int, items: int) -> np.ndarray:
        """`items` items from item `first_item` on (flat, C order), read into a new array."""
        out = np.empty(items, dtype=self.dtype)
        buffer, done = memoryview(out).cast("B"), 0
        start = self._offset + first_item * self.dtype.itemsize
        while done < len(buffer):  # a read may return less than asked (~2 GB at most at once)
            got = os.preadv(self._fd, [buffer[done:]], start + done)
            if got == 0:
                raise OSError(f"{self.path}: {done} bytes where {len(buffer)} were expected (a truncated array)")
            done += got
        return out
