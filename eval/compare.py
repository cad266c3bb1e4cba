"""Paired significance tests between modes (ranx), and the queries where hybrid loses ground."""

from __future__ import annotations

from itertools import combinations

from ranx import Qrels, Run, compare

SIG_LEVEL = 0.05
TESTS = {
    "fisher": "Fisher's randomization test (paired, two-sided, 10,000 permutations)",
    "student": "paired Student's t-test (two-sided)",
}


def significance(qrels: dict[str, dict[str, int]], runs: dict[str, dict[str, dict[str, float]]],
                 metrics: list[str], test: str = "fisher") -> list[dict[str, object]]:
    """One entry per pair of modes and metric: both scores, the difference, the p-value, the test."""
    report = compare(
        Qrels(qrels), [Run(run, name=mode) for mode, run in runs.items()], metrics,
        stat_test=test, n_permutations=10_000, max_p=SIG_LEVEL, make_comparable=True, rounding_digits=4,
    ).to_dict()
    rows = []
    for a, b in combinations(runs, 2):
        for metric in metrics:
            p_value = float(report[a]["comparisons"][b][metric])
            score_a, score_b = report[a]["scores"][metric], report[b]["scores"][metric]
            rows.append({
                "a": a, "b": b, "metric": metric, "a_score": round(score_a, 4), "b_score": round(score_b, 4),
                "difference": round(score_a - score_b, 4), "p_value": round(p_value, 4),
                "significant": p_value < SIG_LEVEL, "test": TESTS[test],
            })
    return rows


def first_relevant_rank(run: dict[str, float], judged: dict[str, int]) -> int | None:
    """1-based rank of the first relevant (grade > 0) id in a run, None when absent."""
    for rank, doc in enumerate(run, start=1):
        if judged.get(doc, 0) > 0:
            return rank
    return None


def hybrid_losses(qrels: dict[str, dict[str, int]], runs: dict[str, dict[str, dict[str, float]]],
                  queries: dict[str, str]) -> list[dict[str, object]]:
    """Queries where hybrid ranks the first relevant hit lower than the better single mode does.

    A missing hit ranks below every present one; the list is sorted by how much was lost.
    """
    never = 10**6
    losses = []
    for qid, judged in qrels.items():
        ranks = {mode: first_relevant_rank(runs[mode].get(qid, {}), judged) for mode in ("bm25", "dense", "hybrid")}
        best_mode = min(("bm25", "dense"), key=lambda m: (ranks[m] or never, m))
        if (ranks["hybrid"] or never) > (ranks[best_mode] or never):
            losses.append({"query_id": qid, "query": queries.get(qid, ""), "hybrid_rank": ranks["hybrid"],
                           "best_single_mode": best_mode, "best_single_rank": ranks[best_mode]})
    return sorted(losses, key=lambda row: (-((row["hybrid_rank"] or never) - row["best_single_rank"]), row["query_id"]))
