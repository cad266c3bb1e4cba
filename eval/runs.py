"""Runs: every judged query through each mode, paragraph hits collapsed to the qrels' document ids."""

from __future__ import annotations

from index.models import article_id_of
from search.fusion import Ranked, collapse
from search.hybrid import FusionParams, Searcher, fuse

Run = dict[str, dict[str, float]]


def to_documents(ranked: Ranked, depth: int) -> dict[str, float]:
    """A paragraph ranking as a document ranking: a document scores its best paragraph's score."""
    return dict(collapse(ranked, article_id_of)[:depth])


def leg_rankings(searcher: Searcher, queries: dict[str, str], k0: int) -> tuple[dict[str, Ranked], dict[str, Ranked]]:
    """(bm25, dense) paragraph rankings of depth k0 for every query; query vectors encoded in one batch."""
    ids = list(queries)
    sparse = {qid: searcher.bm25.search(queries[qid], k0)[0] for qid in ids}
    vectors = searcher.dense.encode([queries[qid] for qid in ids])
    dense = dict(zip(ids, searcher.dense.search_vectors(vectors, k0)))
    return sparse, dense


def mode_runs(sparse: dict[str, Ranked], dense: dict[str, Ranked], params: FusionParams, depth: int = 100) -> dict[str, Run]:
    """Document runs of the three modes from the legs' rankings (hybrid fuses them exactly as served)."""
    return {
        "bm25": {qid: to_documents(ranked, depth) for qid, ranked in sparse.items()},
        "dense": {qid: to_documents(ranked, depth) for qid, ranked in dense.items()},
        "hybrid": {qid: to_documents(fuse(sparse[qid], dense[qid], params), depth) for qid in sparse},
    }
