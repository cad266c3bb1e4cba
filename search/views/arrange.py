"""A ranking arranged for reading: one result per article (collapse), newest first (sort by date).

Pure functions over a relevance ranking (paragraph id, score), sorted by (-score, id):

- `by_article`: articles ranked by their best paragraph, each with its best `per_article`
  paragraphs (Elasticsearch's `collapse` with `inner_hits`); ties by article id.
- `by_date`: newest first; equal dates (and undated items, which come last) keep their
  relevance order. A date is ISO `YYYY-MM-DD`; a month alone (`2024-12`) sorts before the days
  of that month; a date without a year (`--12-18`, from a dateline) after every dated one and
  before the undated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from search.fusion import Ranked

DateOf = Callable[[str], str | None]  # an id -> its date


@dataclass(frozen=True)
class Group:
    """One article's place in an article ranking: its best paragraph's score and its best paragraphs."""

    article_id: str
    score: float
    paragraphs: Ranked  # the article's best listed paragraphs, (-score, id) order


def by_article(ranked: Sequence[tuple[str, float]], article_of: Callable[[str], str], per_article: int = 3) -> list[Group]:
    """Articles in order of their best listed paragraph, each with at most `per_article` of its paragraphs.

    Invariant: every paragraph of `ranked` belongs to exactly one group (the first `per_article`
    are kept); groups are sorted by (-score, article id).
    """
    members: dict[str, list[tuple[str, float]]] = {}
    for pid, score in sorted(ranked, key=lambda pair: (-pair[1], pair[0])):
        members.setdefault(article_of(pid), []).append((pid, score))
    groups = [Group(aid, found[0][1], found[:per_article]) for aid, found in members.items()]
    return sorted(groups, key=lambda g: (-g.score, g.article_id))


def date_key(date: str | None) -> tuple[int, str]:
    """Sort key putting newer dates first: (0, inverted date) for dated, (1, ...) year-less, (2, "") undated."""
    if not date:
        return 2, ""
    if date.startswith("--"):
        return 1, invert(date)
    return (0, invert(date)) if date[:4].isdigit() else (2, "")


def invert(text: str) -> str:
    """A string that sorts in the opposite order of `text` among same-length ASCII digit strings."""
    return "".join(chr(0x7F - ord(ch)) for ch in text)


def by_date(items: Sequence[tuple[str, float]], date_of: DateOf) -> Ranked:
    """`items` (ranked by relevance) newest first; equal dates keep their relevance order (-score, id)."""
    relevance = sorted(items, key=lambda pair: (-pair[1], pair[0]))
    return sorted(relevance, key=lambda pair: date_key(date_of(pair[0])))  # stable: ties keep relevance


def groups_by_date(groups: Sequence[Group], date_of: DateOf) -> list[Group]:
    """Article groups newest first by their article's date; equal dates keep their relevance order."""
    return sorted(groups, key=lambda g: date_key(date_of(g.article_id)))
