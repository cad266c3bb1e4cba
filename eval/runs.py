"""Runs: every judged query through each mode, paragraph hits judged at the level of the qrels' ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
from rich.console import Console
from rich.progress import track

from eval.datasets import DatasetError
from search.article_context import with_article_context
from search.fusion import FusionParams, Ranked, collapse, fuse
from search.hybrid import Searcher

Run = dict[str, dict[str, float]]
Unit = Callable[[str], str]  # paragraph id -> the id the qrels judge (itself, or its article)


def judged_level(qrels: dict[str, dict[str, int]], paragraph_article: Mapping[str, str]) -> str:
    """"paragraph" when every judged id is a paragraph id (or nothing is judged yet), else "article"."""
    judged = {doc for docs in qrels.values() for doc in docs}
    return "paragraph" if judged <= paragraph_article.keys() else "article"


def unit_of(level: str, paragraph_article: Mapping[str, str]) -> Unit:
    """paragraph id -> the id judged at `level`: itself, or its article (a BEIR document split into several
    paragraphs is judged as the document: it scores its best paragraph's score)."""
    return (lambda pid: pid) if level == "paragraph" else paragraph_article.__getitem__


def judged_unit(qrels: dict[str, dict[str, int]], paragraph_article: Mapping[str, str]) -> Unit:
    """The unit the qrels judge: paragraphs when every judged id is a paragraph id, else articles."""
    return unit_of(judged_level(qrels, paragraph_article), paragraph_article)


def article_qrels(qrels: dict[str, dict[str, int]], article_of: Callable[[str], str]) -> dict[str, dict[str, int]]:
    """Paragraph judgements as article judgements: an article is graded by its best judged paragraph."""
    out: dict[str, dict[str, int]] = {}
    for qid, docs in qrels.items():
        graded = out.setdefault(qid, {})
        for pid, grade in docs.items():
            aid = article_of(pid)
            graded[aid] = max(grade, graded.get(aid, grade))
    return out


def scored_level(qrels: dict[str, dict[str, int]], judged: str, group: str | None,
                 article_of: Callable[[str], str]) -> tuple[str, dict[str, dict[str, int]]]:
    """The unit an evaluation scores and the qrels at that unit: the qrels' own (`judged`) unless `group` names
    one. `group="article"` over paragraph judgements ranks articles by their best paragraph (what group=article
    shows) and grades each by its best judged paragraph. Raises DatasetError for paragraphs over article judgements."""
    if group is None or group == judged:
        return judged, qrels
    if group == "article":
        return "article", article_qrels(qrels, article_of)
    raise DatasetError("the qrels judge articles, not paragraphs: paragraphs cannot be scored against them "
                     "(use --group article, or leave --group out)")


def to_run(ranked: Ranked, unit: Unit, depth: int) -> dict[str, float]:
    """A paragraph ranking as a ranking of judged units, best member first, `depth` long."""
    return dict(collapse(ranked, unit)[:depth])


@dataclass(frozen=True)
class Legs:
    """Each query's BM25 and dense paragraph rankings, BM25's coverage of it (for adaptive fusion),
    and each paragraph's article (for article context; None: paragraphs fused alone)."""

    sparse: dict[str, Ranked]
    dense: dict[str, Ranked]
    covered: dict[str, float]
    article_of: Mapping[str, str] | None = None


def leg_rankings(searcher: Searcher, queries: dict[str, str], k0: int, quiet: bool = True) -> Legs:
    """Both legs at depth k0 for every query.

    Each query is encoded alone, as a service encodes a query that arrives alone (the model's
    runtime may differ for batches: index/model/runtime.py), so the scores are those users get.
    """
    ids = list(queries)
    progress = track(ids, description="BM25 queries", console=Console(stderr=True, quiet=quiet), transient=True)
    sparse = {qid: searcher.bm25.search(queries[qid], k0, count=False)[0] for qid in progress}
    covered = {qid: searcher.coverage(queries[qid], sparse[qid]) for qid in ids}
    encoded = [searcher.dense.encode([queries[qid]]) for qid in ids]
    vectors = np.vstack(encoded) if encoded else np.zeros((0, searcher.dense.encoder.dim), dtype=np.float32)
    dense = dict(zip(ids, searcher.dense.search_vectors(vectors, k0)))
    articles = {paragraph.id: paragraph.article_id for paragraph in searcher.corpus.live_paragraphs()}
    return Legs(sparse, dense, covered, articles)


def hybrid_run(legs: Legs, params: FusionParams, unit: Unit, depth: int = 100) -> Run:
    """The hybrid run, fused exactly as served, from legs truncated to params.k0.

    Coverage is measured on the full-depth BM25 leg's best hit, which truncation keeps.
    """
    def fused(qid: str) -> Ranked:
        ranked = fuse(legs.sparse[qid][:params.k0], legs.dense[qid][:params.k0], params, legs.covered[qid])
        if legs.article_of is None:
            return ranked
        return with_article_context(ranked, legs.article_of.__getitem__, params.article_weight)

    return {qid: to_run(fused(qid), unit, depth) for qid in legs.sparse}


def mode_runs(legs: Legs, params: FusionParams, unit: Unit, depth: int = 100) -> dict[str, Run]:
    """Runs of the three modes from the legs' rankings."""
    return {
        "bm25": {qid: to_run(ranked, unit, depth) for qid, ranked in legs.sparse.items()},
        "dense": {qid: to_run(ranked, unit, depth) for qid, ranked in legs.dense.items()},
        "hybrid": hybrid_run(legs, params, unit, depth),
    }
