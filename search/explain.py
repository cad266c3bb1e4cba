"""Explain: why a hit ranks where it does, as plain numbers (`explain=true` on a search).

Per hit: its BM25 score and rank among BM25's candidates, its dense score and rank (with the
paragraph's own cosine and its best sentence's, where the engine blends them), each leg's
normalised value (min-max over that leg's candidates: what the weighted sum adds), the dense
weight used for this query and why (BM25's coverage of the query, for adaptive fusion), the fused
score, and what article context added. Every number is the one the ranking used: explaining never
changes a score (tested: fused + article context = the hit's score).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

from search.fusion import Ranked, adaptive_alpha, min_max

ArticleOf = Callable[[str], str]


@dataclass(frozen=True)
class Leg:
    """One leg's view of a hit: its score and 1-based rank among the leg's candidates (None: not a candidate),
    and its min-max normalised score (0: not a candidate)."""

    score: float | None
    rank: int | None
    normalised: float


def leg_view(ranked: Ranked) -> dict[str, Leg]:
    """Each candidate of a leg's ranking, as a Leg."""
    normalised = dict(min_max(ranked))
    return {pid: Leg(score, rank, normalised[pid]) for rank, (pid, score) in enumerate(ranked, start=1)}


def dense_weight(method: str, alpha: float, covered: float, alpha_min: float, alpha_max: float) -> tuple[float, str]:
    """The dense weight of a query and a sentence saying why."""
    if method == "adaptive":
        weight = adaptive_alpha(covered, alpha_min, alpha_max)
        return weight, (f"adaptive: BM25's best hit holds {covered:.0%} of the query's term weight, so the dense "
                        f"weight is {alpha_max} - ({alpha_max} - {alpha_min}) x {covered:.3f} = {weight:.3f}")
    if method == "rrf":
        return 0.0, "rrf: ranks fused, 1 / (k + rank) from each leg; no weights"
    return alpha, f"weighted: a fixed dense weight {alpha}"


def hybrid_explanations(final: Ranked, sparse: Ranked, dense: Ranked, fused: Ranked, method: str, weight: float,
                        why: str, rrf_k: int, article_of: ArticleOf,
                        sentence_parts: dict[str, tuple[float, float | None]] | None = None) -> dict[str, dict]:
    """The explanation of every paragraph of `final` (the hybrid ranking served), from the legs it was fused from,
    the fused ranking before article context, and the fusion used."""
    bm25, vectors, before = leg_view(sparse), leg_view(dense), dict(fused)
    best = {}
    for pid, score in fused:
        article = article_of(pid)
        if article not in best or score > best[article][1]:
            best[article] = (pid, score)
    out = {}
    for pid, score in final:
        lexical, semantic = bm25.get(pid, Leg(None, None, 0.0)), vectors.get(pid, Leg(None, None, 0.0))
        explained = {"bm25": asdict(lexical), "dense": asdict(semantic), "fusion": method,
                     "dense_weight": round(weight, 6), "why": why, "fused": before[pid],
                     "article_context": {"added": score - before[pid], "article_best": best[article_of(pid)][0]},
                     "score": score}
        if method == "rrf":
            explained["rrf"] = {"k": rrf_k, "bm25": 1 / (rrf_k + lexical.rank) if lexical.rank else 0.0,
                                "dense": 1 / (rrf_k + semantic.rank) if semantic.rank else 0.0}
        if sentence_parts is not None and pid in sentence_parts and semantic.rank is not None:
            explained["dense"]["paragraph_cosine"], explained["dense"]["best_sentence_cosine"] = sentence_parts[pid]
        out[pid] = explained
    return out


def leg_explanations(page: Ranked, leg: str, sentence_parts: dict[str, tuple[float, float | None]] | None = None,
                     first_rank: int = 1) -> dict[str, dict]:
    """The explanation of a page of a single-leg ranking (bm25 or dense mode): each hit's score and rank in it."""
    out = {}
    for rank, (pid, score) in enumerate(page, start=first_rank):
        explained: dict = {leg: {"score": score, "rank": rank}, "score": score}
        if sentence_parts is not None and pid in sentence_parts:
            explained[leg]["paragraph_cosine"], explained[leg]["best_sentence_cosine"] = sentence_parts[pid]
        out[pid] = explained
    return out
