"""A segment's paragraphs by row, read from its mapped `paragraphs.jsonl` a line at a time when asked for.

Parsed up front, the 100k bench segment's paragraphs took 0.47 s at every opening and ~100 MB of the heap for as
long as it was open (1M: ten times that), though a search reads a few dozen of them. Mapped, the file stays in the
page cache (shared, evictable) and a paragraph costs one line's parse (a few microseconds) when a hit shows it.

Invariant: row r is the line `order[r]` (line r where `order` is None, as segments are written: write_docs puts
paragraphs in row order); the lines and rows hold the same paragraph ids, checked at opening.
"""

from __future__ import annotations

import mmap
from collections.abc import Sequence
from pathlib import Path
from typing import overload

import numpy as np
import orjson

from index.models import Paragraph


class ParagraphRowsError(ValueError):
    """The file's paragraphs are not those of the segment's rows."""


class JsonLines:
    """The non-empty lines of a file, mapped; `line(i)` is the bytes of the i-th."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as handle:
            size = handle.seek(0, 2)
            self._data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        data = np.frombuffer(self._data, dtype=np.uint8)
        ends = np.flatnonzero(data == ord("\n"))
        if size and (not len(ends) or ends[-1] != size - 1):
            ends = np.append(ends, size)  # a last line without its newline
        starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
        kept = ends > starts
        self.starts, self.ends = starts[kept], ends[kept]

    def __len__(self) -> int:
        return len(self.starts)

    def line(self, i: int) -> bytes:
        return self._data[self.starts[i]:self.ends[i]]

    def begins_with(self, i: int, prefix: bytes) -> bool:
        start = self.starts[i]
        return self._data[start:start + len(prefix)] == prefix


def id_prefix(paragraph_id: str) -> bytes:
    """How a line written by DocStore.save (json.dumps of the dataclass: `id` first) begins."""
    return b'{"id": ' + orjson.dumps(paragraph_id) + b","


def line_order(lines: JsonLines, ids: list[str]) -> np.ndarray | None:
    """None when line r holds paragraph ids[r] for every r; else the line of each row (a file written in another
    order, by a format-2 build); ParagraphRowsError when the lines hold other paragraphs than `ids`."""
    if len(lines) == len(ids) and all(lines.begins_with(r, id_prefix(pid)) for r, pid in enumerate(ids)):
        return None
    line_of = {orjson.loads(lines.line(i))["id"]: i for i in range(len(lines))}
    if len(line_of) != len(lines) or set(line_of) != set(ids):
        raise ParagraphRowsError(f"{len(lines)} lines of paragraphs for {len(ids)} rows, not the same paragraphs")
    return np.array([line_of[pid] for pid in ids], dtype=np.int64)


class ParagraphRows(Sequence[Paragraph]):
    """The paragraphs of a segment by row, each parsed when read (not kept: a read parses again)."""

    def __init__(self, lines: JsonLines, order: np.ndarray | None) -> None:
        self.lines = lines
        self.order = order

    @classmethod
    def open(cls, path: Path, ids: list[str]) -> "ParagraphRows":
        lines = JsonLines(path)
        return cls(lines, line_order(lines, ids))

    def __len__(self) -> int:
        return len(self.lines)

    @overload
    def __getitem__(self, row: int) -> Paragraph: ...

    @overload
    def __getitem__(self, row: slice) -> list[Paragraph]: ...

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[r] for r in range(*row.indices(len(self)))]
        if not -len(self) <= row < len(self):
            raise IndexError(f"row {row} of {len(self)}")
        line = row if self.order is None else self.order[row]
        return Paragraph(**orjson.loads(self.lines.line(line)))
