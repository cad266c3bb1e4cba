"""A segment's articles by id, read from its mapped `articles.jsonl` when asked for.

Parsed up front, the 100k bench segment's 42,703 articles took 0.36 s at every opening and ~80 MB of the heap
(each article carries its paragraphs' text again), though a search reads a few of them (an article's page,
related stories). Membership, counting and iterating the ids read nothing.

Invariant: `line_of` maps every article id of the segment to its line, checked against the lines' ids at opening.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from index.models import Article
from index.store.docs.json_lines import JsonLines, line_order


def article_of_record(row: dict) -> Article:
    """An Article from its parsed line (lists back to tuples)."""
    row["paragraphs"] = tuple(row["paragraphs"])
    row["captions"] = tuple(row["captions"])
    return Article(**row)


class ArticleMap(Mapping[str, Article]):
    """article id -> Article, each parsed when read (not kept)."""

    def __init__(self, lines: JsonLines, line_of: dict[str, int]) -> None:
        self.lines = lines
        self.line_of = line_of

    @classmethod
    def open(cls, path: Path, ids: list[str] | None) -> "ArticleMap":
        """The articles of `path`, expected to be `ids` in the file's order (LinesError otherwise); None: read
        every line's id (a segment without article_rows.json)."""
        lines = JsonLines(path)
        if ids is None:
            ids = [lines.record(i)["id"] for i in range(len(lines))]
        order = line_order(lines, ids, "articles")
        return cls(lines, {aid: i if order is None else int(order[i]) for i, aid in enumerate(ids)})

    def __getitem__(self, article_id: str) -> Article:
        line = self.line_of[article_id]
        try:
            return article_of_record(self.lines.record(line))
        except (TypeError, KeyError) as err:  # other fields than an Article's
            raise self.lines.damaged(line, f"{type(err).__name__}: {err}") from err

    def __contains__(self, article_id: object) -> bool:
        return article_id in self.line_of

    def __iter__(self) -> Iterator[str]:
        return iter(self.line_of)

    def __len__(self) -> int:
        return len(self.line_of)
