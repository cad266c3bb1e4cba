"""Tombstones: which rows and articles of a segment are deleted, as of one commit point.

A segment's tombstone file holds all its deletions so far (cumulative), so a reader needs only
the one its commit point names. Each write that deletes from a segment writes a new file, named by
segment and generation; the old one stays for the commit points that still list it. Rows never
come back: a later tombstone file of a segment holds every row of the earlier ones.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Tombstones:
    rows: tuple[int, ...] = ()  # sorted
    articles: tuple[str, ...] = ()  # sorted

    def plus(self, rows: set[int] | list[int], articles: set[str] | list[str]) -> "Tombstones":
        return Tombstones(tuple(sorted(set(self.rows) | set(rows))), tuple(sorted(set(self.articles) | set(articles))))


NONE = Tombstones()


def tombstone_file(segment: str, generation: int) -> str:
    return f"del-{segment}-{generation:08d}.json"


def read_tombstones(index_dir: Path, name: str | None) -> Tombstones:
    """The tombstones in file `name` (none for None)."""
    if name is None:
        return NONE
    data = json.loads((index_dir / name).read_text(encoding="utf-8"))
    return Tombstones(tuple(data["rows"]), tuple(data["articles"]))


def write_tombstones(index_dir: Path, name: str, tombstones: Tombstones) -> None:
    """Write a new tombstone file, fsynced (its folder entry is fsynced with the commit point)."""
    path = index_dir / name
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"rows": list(tombstones.rows), "articles": list(tombstones.articles)}, handle)
        handle.flush()
        os.fsync(handle.fileno())
