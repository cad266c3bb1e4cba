"""Filters and boolean queries as Milvus filter expressions (pure functions).

A Filter becomes conditions on the filter fields (index/milvus/schema.py). A query's matching
structure (AND, OR, NOT over terms) becomes conditions on `terms`, the array of a paragraph's
term ids: exact for terms, necessary but not sufficient for a phrase (its words all present, in
any order), so a query with phrases has its candidates checked (search/milvus/lexical.py). A term
of an ID field (`source:x`, `article_id:x`, `date:x`, `paragraph_id:x`) is a comparison of that
field; any other clause (a numeric range on `position`, ...) is left to the check.

String literals are written out (index/milvus/connection.literal): Milvus Lite has no filter templates.
"""

from __future__ import annotations

from typing import Callable, Sequence, Union

from whoosh.query import And, AndMaybe, AndNot, Not, NullQuery, Or, Phrase, Query, Term

from index.milvus.connection import literal
from index.store.postings.segment_postings import FIELDS
from search.filters import Filter

AFTER_ALL = "\U0010ffff"  # sorts after any character a date may hold: `date[:n] <= to` is `date < to + AFTER_ALL`
# The Whoosh schema's ID fields (index/store/bm25_store.make_schema) and the row fields holding the same values.
ID_FIELDS = {"paragraph_id": "id", "article_id": "article_id", "source": "source", "date": "date"}
Condition = Union[str, bool]  # an expression, or a constant: True (every paragraph) / False (none)
TermId = Callable[[str, str], "int | None"]  # (field, term) -> its sparse dimension (None: no paragraph has it)


quoted = literal  # a Milvus string literal


def folded(conditions: tuple[Condition, ...], absorbing: bool, word: str) -> Condition:
    """`conditions` joined by `word`, constants folded: `absorbing` (False for and, True for or) decides alone, the
    other constant drops out (and is the answer when nothing is left)."""
    if any(c is absorbing for c in conditions):
        return absorbing
    kept = [c for c in conditions if not isinstance(c, bool)]
    if not kept:
        return not absorbing
    return kept[0] if len(kept) == 1 else f" {word} ".join(f"({c})" for c in kept)


def both(*conditions: Condition) -> Condition:
    """The conjunction, constants folded."""
    return folded(conditions, False, "and")


def either(*conditions: Condition) -> Condition:
    """The disjunction, constants folded."""
    return folded(conditions, True, "or")


def negated(condition: Condition) -> Condition:
    return (not condition) if isinstance(condition, bool) else f"not ({condition})"


def date_from(start: str) -> str:
    """search/filters.date_accepted's lower bound: a date of n characters meets it when date >= start[:n]."""
    clauses = [f"(date_len == {n} and date >= {quoted(start[:n])})" for n in range(1, len(start))]
    clauses.append(f"(date_len >= {len(start)} and date >= {quoted(start)})")
    return " or ".join(clauses)


def date_to(end: str) -> str:
    """search/filters.date_accepted's upper bound: date[:len(end)] <= end."""
    return f"date < {quoted(end + AFTER_ALL)}"


def filter_condition(flt: Filter) -> Condition:
    """The filter as a condition on a paragraph's (or sentence's) filter fields."""
    parts: list[Condition] = []
    if flt.source:
        parts.append(f"source == {quoted(flt.source)}")
    if flt.article_id:
        parts.append(f"article_id == {quoted(flt.article_id)}")
    if flt.has_date():
        parts.append("date_len > 0")
        if flt.date_from:
            parts.append(date_from(flt.date_from))
        if flt.date_to:
            parts.append(date_to(flt.date_to))
    return both(*parts)


def any_term(ids: Sequence[int]) -> Condition:
    """Paragraphs holding one of these terms."""
    return f"array_contains_any(terms, [{', '.join(map(str, sorted(set(ids))))}])" if ids else False


def match_condition(query: Query, term_id: TermId) -> tuple[Condition, bool]:
    """The paragraphs a parsed query matches, as a condition on `terms`, and whether it is exact (False: the query
    holds a phrase or a clause this cannot express, and candidates must be checked against the query itself)."""
    if query is NullQuery:
        return False, True
    if isinstance(query, Term) and query.fieldname in ID_FIELDS:  # a whole value of a paragraph's field
        return f"{ID_FIELDS[query.fieldname]} == {quoted(str(query.text))}", True
    if isinstance(query, Term) and query.fieldname in FIELDS:
        found = term_id(query.fieldname, query.text)
        return (False if found is None else f"array_contains(terms, {found})"), True
    if isinstance(query, Phrase) and query.fieldname in FIELDS:
        ids = [term_id(query.fieldname, word) for word in query.words]
        if not ids or any(i is None for i in ids):
            return False, True
        return f"array_contains_all(terms, [{', '.join(map(str, sorted(set(ids))))}])", False
    if isinstance(query, Not):
        return excluded(query.query, term_id)
    if isinstance(query, AndNot):
        (a, exact_a), (b, exact_b) = match_condition(query.a, term_id), excluded(query.b, term_id)
        return both(a, b), exact_a and exact_b
    if isinstance(query, AndMaybe):
        return match_condition(query.a, term_id)
    if type(query) is And or (type(query) is Or and query.minmatch <= 1):
        found = [match_condition(sub, term_id) for sub in query.subqueries]
        combine = both if type(query) is And else either
        return combine(*(c for c, _ in found)), all(e for _, e in found)
    return True, False  # anything else: no condition here, the candidates are checked


def excluded(query: Query, term_id: TermId) -> tuple[Condition, bool]:
    """The paragraphs a query does not match. Only an exact condition can be negated: the negation of a necessary
    one would drop paragraphs that hold a phrase's words apart, so an inexact one leaves it to the check."""
    inner, exact = match_condition(query, term_id)
    return (negated(inner), True) if exact else (True, False)
