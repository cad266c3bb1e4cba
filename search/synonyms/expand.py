"""The BM25 terms a query's synonyms add, and their boosts.

A synonym phrase found for a query phrase adds its terms (those not in the query already) at a
boost that gives the whole phrase `weight` times the query phrase's weight, shared out by idf:

    boost(t) = weight * W(source) / W(synonym),   W(p) = sum of the idf of p's distinct terms

so a paragraph holding the whole synonym scores about `weight` times what it would holding the
query's own phrase (as Lucene's SynonymQuery scores a synonym as if it were the query's term), and
one holding only a common word of a long synonym (外卖 of 外卖小哥) gets that word's share, never a
query word's full weight. Terms stay separate (not a phrase query), so a query with synonyms is
still a flat OR of terms, scored from the postings as fast as any other.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

Terms = Callable[[str], Sequence[str]]
Idf = Callable[[Sequence[str]], Mapping[str, float]]


def phrase_weight(terms: Sequence[str], idf: Mapping[str, float]) -> float:
    """W(p): the sum of the idf of a phrase's distinct terms."""
    return sum(idf[term] for term in dict.fromkeys(terms))


def synonym_boosts(found: Mapping[str, Sequence[str]], terms_of: Terms, idf_of: Idf, weight: float,
                   have: set[str]) -> dict[str, float]:
    """Each term to add -> its boost, for synonyms `found` (phrase -> the query phrases it stands for).

    Terms in `have` (the query's own) are never added; a term several synonyms add keeps its largest boost.
    """
    terms = {phrase: list(dict.fromkeys(terms_of(phrase))) for phrase in {*found, *(s for v in found.values() for s in v)}}
    idf = idf_of(list(dict.fromkeys(t for phrase_terms in terms.values() for t in phrase_terms)))
    boosts: dict[str, float] = {}
    for synonym, sources in found.items():
        own = phrase_weight(terms[synonym], idf)
        if own <= 0:
            continue
        source = max(phrase_weight(terms[s], idf) for s in sources)
        for term in terms[synonym]:
            if term not in have:
                boosts[term] = max(boosts.get(term, 0.0), weight * source / own)
    return boosts
