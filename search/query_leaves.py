"""What a parsed Whoosh query is scored by: its (field, term, boost) leaves, flat when it is only ORs of terms.

Shared by every engine: the embedded one scores the leaves from its postings, another engine
translates them (a flat OR is a sparse-vector query; anything else needs the query's matching too).
"""

from __future__ import annotations

from whoosh.query import And, AndMaybe, AndNot, Not, Or, Query, Term

from index.store.postings.segment_postings import FIELDS

Leaf = tuple[str, str, float]  # (field, term, boost): one clause of a query's positive terms


def flat_leaves(query: Query, boost: float = 1.0) -> list[Leaf] | None:
    """The (field, term, boost) clauses of a query that is only ORs of terms with positive boosts; else None."""
    if isinstance(query, Term):
        weight = boost * query.boost
        return [(query.fieldname, query.text, weight)] if weight > 0 else None
    if type(query) is Or and not query.scale and query.minmatch <= 1:
        leaves: list[Leaf] = []
        for sub in query.subqueries:
            found = flat_leaves(sub, boost * query.boost)
            if found is None:
                return None
            leaves.extend(found)
        return leaves
    return None


def positive_leaves(query: Query, boost: float = 1.0) -> list[Leaf]:
    """The (field, term, boost) of every term a matching paragraph is scored by: NOT clauses left out."""
    boost *= query.boost
    if isinstance(query, Not):
        return []
    if isinstance(query, AndNot):
        return positive_leaves(query.a, boost)
    if isinstance(query, (And, Or, AndMaybe)) or not query.is_leaf():
        return [leaf for sub in query.children() for leaf in positive_leaves(sub, boost)]
    return [(fieldname, text, boost) for fieldname, text in query.iter_all_terms(phrases=True)
            if fieldname in FIELDS and boost > 0]
