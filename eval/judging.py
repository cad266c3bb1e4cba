"""Judging a pool: one (query, document) at a time, each grade appended to the dataset's qrels at once.

Invariants: a grade is on disk (appended, flushed, fsynced) before it is acknowledged, so a crash
loses no grade already given; the qrels file is only ever appended to (a later line for the same
pair wins, as `read_qrels` reads it), never rewritten; one judge per dataset at a time (an
exclusive lock on `qrels/<split>.tsv.lock`, released by the kernel if the judge dies).
"""

from __future__ import annotations

import fcntl
import os
import threading
from dataclasses import asdict
from pathlib import Path

from eval.datasets import DatasetError, read_qrels
from index.store.durable import fsync_dir
from eval.pool import PoolItem

GRADES = {0: "not relevant", 1: "related", 2: "answers it"}
HEADER = "query-id\tcorpus-id\tscore\n"


class JudgeBusyError(ValueError):
    """Another judge holds the dataset's qrels."""


class StaleActionError(ValueError):
    """An action names a position other than the one shown (another tab moved on): reload."""


def append_grade(path: Path, query_id: str, doc_id: str, grade: int) -> None:
    """One qrels line appended durably (a header first in a new file; a newline first if the last line lacks one)."""
    if any(c in value for value in (query_id, doc_id) for c in "\t\r\n"):
        raise ValueError(f"ids with tabs or line breaks cannot be written to qrels: {query_id!r}, {doc_id!r}")
    with open(path, "a+b") as handle:
        size = handle.seek(0, os.SEEK_END)
        prefix = b""
        if size == 0:
            prefix = HEADER.encode("utf-8")
        else:
            handle.seek(size - 1)
            prefix = b"" if handle.read(1) == b"\n" else b"\n"
        try:
            handle.write(prefix + f"{query_id}\t{doc_id}\t{grade}\n".encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        except OSError:
            handle.truncate(size)  # a torn line (a full disk) would corrupt the file for every later reader
            raise
    if size == 0:
        fsync_dir(path.parent)  # a new file's name is durable too


class Judging:
    """The judging of one pool against one qrels file; thread-safe. `close()` releases the dataset."""

    def __init__(self, qrels_path: Path, items: list[PoolItem], name: str = "") -> None:
        self.qrels_path = qrels_path
        self.items = items
        self.name = name or qrels_path.parent.parent.name
        self._lock = threading.Lock()
        self._lock_file = open(qrels_path.with_name(qrels_path.name + ".lock"), "a+")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise JudgeBusyError(f"another `zhsearch judge` is grading {self.name} ({qrels_path}): wait for it to "
                                 "finish, or judge another dataset") from None
        try:
            qrels = read_qrels(qrels_path) if qrels_path.is_file() else {}
        except DatasetError:
            self.close()
            raise
        self.grades = {(item.query_id, item.doc_id): qrels[item.query_id][item.doc_id] for item in items
                       if item.doc_id in qrels.get(item.query_id, {})}
        self.given = 0  # grades given in this session
        self.position = self._next_ungraded(0)

    @classmethod
    def of_dataset(cls, folder: Path, items: list[PoolItem], split: str = "test") -> "Judging":
        path = folder / "qrels" / f"{split}.tsv"
        if not path.parent.is_dir():
            raise DatasetError(f"{folder} is not a BEIR dataset: no qrels/ folder in it")
        return cls(path, items, folder.resolve().name)

    def _next_ungraded(self, start: int) -> int:
        """The first position from `start` whose pair has no grade, wrapping round to the items skipped before it
        (len(items): every item is graded)."""
        for position in [*range(start, len(self.items)), *range(0, min(start, len(self.items)))]:
            item = self.items[position]
            if (item.query_id, item.doc_id) not in self.grades:
                return position
        return len(self.items)

    def state(self) -> dict[str, object]:
        """What the page shows: the item at the position (None when done), progress, the grades so far."""
        with self._lock:
            return self._state()

    def _state(self) -> dict[str, object]:
        item = self.items[self.position] if self.position < len(self.items) else None
        counts = {str(g): sum(1 for value in self.grades.values() if value == g) for g in GRADES}
        return {"dataset": self.name, "position": self.position, "total": len(self.items),
                "graded": len(self.grades), "given": self.given, "counts": counts,
                "done": self._next_ungraded(0) == len(self.items),
                "item": asdict(item) if item else None,
                "grade": self.grades.get((item.query_id, item.doc_id)) if item else None}

    def _check(self, position: int) -> None:
        if position != self.position:
            raise StaleActionError(f"position {position} is not the one shown ({self.position}): reload the page")

    def grade(self, position: int, grade: int) -> dict[str, object]:
        """Grade the item at `position` (durably), then show the next ungraded one."""
        if grade not in GRADES:
            raise ValueError(f"grade {grade}: use 0 (not relevant), 1 (related) or 2 (answers it)")
        with self._lock:
            self._check(position)
            if position >= len(self.items):
                raise StaleActionError("every item is graded")
            item = self.items[position]
            append_grade(self.qrels_path, item.query_id, item.doc_id, grade)
            self.grades[(item.query_id, item.doc_id)] = grade
            self.given += 1
            self.position = self._next_ungraded(position + 1)
            return self._state()

    def skip(self, position: int) -> dict[str, object]:
        """Leave the item at `position` ungraded and show the next one (graded or not); past the last item, the
        first one still ungraded (skipped items come back)."""
        with self._lock:
            self._check(position)
            following = position + 1
            self.position = following if following < len(self.items) else self._next_ungraded(0)
            return self._state()

    def back(self, position: int) -> dict[str, object]:
        """Show the item before `position` again (its grade can be changed: a later line wins)."""
        with self._lock:
            self._check(position)
            self.position = max(position - 1, 0)
            return self._state()

    def close(self) -> None:
        with self._lock:
            if not self._lock_file.closed:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                self._lock_file.close()
