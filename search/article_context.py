"""Article context: a paragraph's score moves towards its article's best-scoring paragraph.

A news paragraph rarely stands alone: when one paragraph of an article matches a question
well, its neighbours (the figures, the programme's name, the follow-up) are more likely to
answer it than equally scored paragraphs of unrelated articles. So, within one ranked list,

    score'(p) = (1 - w) * score(p) + w * max(score(q) for q listed, q in p's article)

Invariants: an article's best listed paragraph keeps its score, and no paragraph rises above
it (so collapsing paragraphs to their articles ranks articles exactly as before); w = 0 is the
identity; only paragraphs in the list take part, so the cost is one pass over it.
"""

from __future__ import annotations

from typing import Callable, Sequence

from search.fusion import Ranked, best_by_group, ordered

ArticleOf = Callable[[str], str]  # paragraph id -> its article's id


def towards(score: float, best: float, weight: float) -> float:
    """(1 - w) score + w best, written so that best maps to itself exactly; min() keeps a
    rounding step from lifting a paragraph past its article's best."""
    return min(best, score + weight * (best - score))


def with_article_context(ranked: Sequence[tuple[str, float]], article_of: ArticleOf, weight: float) -> Ranked:
    """`ranked` rescored by the rule above with w = `weight` in [0, 1], sorted by (-score, id)."""
    if weight <= 0.0:
        return ordered(ranked)
    best = best_by_group(ranked, article_of)
    return ordered((pid, towards(score, best[article_of(pid)], weight)) for pid, score in ranked)
