"""How a search's results are shown: paragraphs or one per article, by relevance or newest first, with facets.

A view other than the plain one (paragraphs by relevance, no facets) is arranged from a pool of
candidates ranked by relevance, the deepest each mode has:

- bm25: every matching paragraph, up to POOL_LIMIT (the best by relevance beyond it);
- dense: the top 2 x k0 paragraphs by cosine (every paragraph matches: depth is a choice);
- hybrid: the fused candidates, each leg's top k0 (at most 2 x k0).

`total` then counts the pool's results (paragraphs, or articles when grouped), and the response
says what the pool was (`Pool`). Facets count the same pool, in the same unit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from search.views.arrange import Group, by_article, by_date, groups_by_date
from search.views.facets import facet_counts
from search.fusion import Ranked

Grouping = Literal["paragraph", "article"]
Sorting = Literal["relevance", "date"]
POOL_LIMIT = 10_000  # paragraphs a bm25 pool holds at most
PER_ARTICLE = 3  # paragraphs shown under an article result


@dataclass(frozen=True)
class View:
    """What a search shows: `group`ed by paragraph or article, `sort`ed by relevance or date, with `facets`,
    copies of one story once (`dedup`) or all."""

    group: Grouping = "paragraph"
    sort: Sorting = "relevance"
    facets: tuple[str, ...] = ()
    dedup: bool = True  # copies of a story shown once (search/views/copies.py)

    def is_plain(self) -> bool:
        """Paragraphs by relevance without facets: served from the ranking alone (deep enough to fill a page once
        copies are hidden), no pool needed."""
        return self.group == "paragraph" and self.sort == "relevance" and not self.facets


PLAIN = View()


@dataclass(frozen=True)
class Pool:
    """The candidates a view was arranged from."""

    paragraphs: int  # in the pool
    matches: int | None  # bm25: paragraphs matching at all (None where every paragraph matches)
    what: str  # in words, for the response


@dataclass(frozen=True)
class Arranged:
    """A view's results in order (paragraph rankings or article groups) and its facet counts."""

    total: int  # results in order: paragraphs, or articles when grouped
    paragraphs: Ranked = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def arrange(pool: Sequence[tuple[str, float]], view: View, article_of: Callable[[str], str],
            date_of: Callable[[str], str | None], source_of: Callable[[str], str]) -> Arranged:
    """The pool (a relevance ranking of paragraph ids) arranged as `view` asks, with facets over all of it.

    `date_of` and `source_of` take a paragraph id; an article's are its paragraphs' (they share them).
    """
    if view.group == "article":
        groups = by_article(pool, article_of, PER_ARTICLE)
        first = {g.article_id: g.paragraphs[0][0] for g in groups}
        if view.sort == "date":
            groups = groups_by_date(groups, lambda aid: date_of(first[aid]))
        facets = facet_counts([first[g.article_id] for g in groups], view.facets, source_of, date_of)
        return Arranged(len(groups), groups=groups, facets=facets)
    ranked = by_date(pool, date_of) if view.sort == "date" else list(pool)
    return Arranged(len(ranked), paragraphs=ranked,
                    facets=facet_counts([pid for pid, _ in ranked], view.facets, source_of, date_of))
