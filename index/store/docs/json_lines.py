"""A JSONL file of one record a line, mapped, each line found without parsing and parsed when it is read.

Invariant: DocStore.save writes every record with its `id` first (`{"id": "...", ...}`), so a line's id can be
checked by its first bytes; a file written otherwise is still read, through a map of ids to lines.
"""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np
import orjson


class LinesError(ValueError):
    """The file's records are not the ones expected (other ids, or a line that is not a record)."""


class DamagedRecordError(LinesError):
    """A line, its id intact, no longer parses: the file was damaged after the segment was written."""


class JsonLines:
    """The non-empty lines of a file, mapped; `line(i)` is the bytes of the i-th."""

    def __init__(self, path: Path) -> None:
        self.path = path
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

    def record(self, i: int) -> dict:
        """Line i parsed; DamagedRecordError for a line that is not a JSON object."""
        try:
            found = orjson.loads(self.line(i))
        except orjson.JSONDecodeError as err:
            raise self.damaged(i, str(err)) from err
        if not isinstance(found, dict):
            raise self.damaged(i, "not a JSON object")
        return found

    def damaged(self, i: int, why: str) -> DamagedRecordError:
        """The error for line i (from 0), naming the file and the fix."""
        return DamagedRecordError(f"{self.path}: line {i + 1} cannot be read ({why}); the index is damaged: "
                                  f"`zhsearch check --index-dir DIR` lists what, rebuild or restore it")

    def begins_with(self, i: int, prefix: bytes) -> bool:
        start = self.starts[i]
        return self._data[start:start + len(prefix)] == prefix


def id_prefix(record_id: str) -> bytes:
    """How a line written by DocStore.save (json.dumps of the dataclass: `id` first) begins."""
    return b'{"id": ' + orjson.dumps(record_id) + b","


def line_order(lines: JsonLines, ids: list[str], what: str) -> np.ndarray | None:
    """None when line i holds record ids[i] for every i; else the line of each id (a file written in another
    order); LinesError when the lines hold other records than `ids` (`what` names them in the message)."""
    if len(lines) == len(ids) and all(lines.begins_with(i, id_prefix(rid)) for i, rid in enumerate(ids)):
        return None
    try:
        line_of = {lines.record(i)["id"]: i for i in range(len(lines))}
    except (ValueError, KeyError, TypeError) as err:
        raise LinesError(f"a line of {what} is not a record with an id: {err}") from err
    if len(line_of) != len(lines) or set(line_of) != set(ids):
        raise LinesError(f"{len(lines)} lines of {what} for {len(ids)} expected, not the same {what}")
    return np.array([line_of[rid] for rid in ids], dtype=np.int64)
