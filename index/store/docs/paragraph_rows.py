"""A segment's paragraphs by row, read from its mapped `paragraphs.jsonl` a line at a time when asked for.

Parsed up front, the 100k bench segment's paragraphs took 0.47 s at every opening and ~100 MB of the heap for as
long as it was open (1M: ten times that), though a search reads a few dozen of them. Mapped, the file stays in the
page cache (shared, evictable) and a paragraph costs one line's parse (a few microseconds) when a hit shows it.

Invariant: row r is the line `order[r]` (line r where `order` is None, as segments are written: write_docs puts
paragraphs in row order); the lines and rows hold the same paragraph ids, checked at opening.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import overload

import numpy as np

from index.models import Paragraph
from index.store.docs.json_lines import JsonLines, line_order


class ParagraphRows(Sequence[Paragraph]):
    """The paragraphs of a segment by row, each parsed when read (not kept: a read parses again)."""

    def __init__(self, lines: JsonLines, order: np.ndarray | None) -> None:
        self.lines = lines
        self.order = order

    @classmethod
    def open(cls, path: Path, ids: list[str]) -> "ParagraphRows":
        """The paragraphs of rows `ids`; LinesError when the file holds others."""
        lines = JsonLines(path)
        return cls(lines, line_order(lines, ids, "paragraphs"))

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
        try:
            return Paragraph(**self.lines.record(line))
        except TypeError as err:  # other fields than a Paragraph's
            raise self.lines.damaged(line, str(err)) from err
