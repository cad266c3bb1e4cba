"""Holes in the judgements: how much of a run the qrels judge, and runs condensed to the judged documents.

A document nobody judged counts as not relevant, so a mode that finds what the judges never saw
is under-credited. `judged_at` says how much of each mode's top k is judged at all (the share of
the top k with a grade, 0 included, averaged over the judged queries; a ranking shorter than k
counts its missing places as unjudged, as ir_measures' Judged@k does). `condensed` drops the
unjudged documents from every ranking, keeping the order of the rest (Sakai's condensed lists,
SIGIR 2007): metrics over it credit each mode only with what was judged.
"""

from __future__ import annotations

Qrels = dict[str, dict[str, int]]
Run = dict[str, dict[str, float]]

JUDGED_DEPTH = 10


def ranked_ids(ranking: dict[str, float]) -> list[str]:
    """A ranking's ids best first, ties by id (ranx's order)."""
    return [doc for doc, _ in sorted(ranking.items(), key=lambda pair: (-pair[1], pair[0]))]


def judged_at(qrels: Qrels, run: Run, k: int = JUDGED_DEPTH) -> float:
    """The mean share of each judged query's top `k` that the qrels grade (0 included), rounded to 4 places."""
    if not qrels:
        return 0.0
    shares = []
    for qid, judged in qrels.items():
        top = ranked_ids(run.get(qid, {}))[:k]
        shares.append(sum(doc in judged for doc in top) / k)
    return round(sum(shares) / len(shares), 4)


def condensed(qrels: Qrels, run: Run) -> Run:
    """`run` with only the documents judged for each query, in their order (queries without qrels dropped)."""
    return {qid: {doc: score for doc, score in ranking.items() if doc in qrels[qid]}
            for qid, ranking in run.items() if qid in qrels}
