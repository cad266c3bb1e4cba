"""Fusion tuning by k-fold cross-validation: choose settings on k-1 folds, score them on the held-out one."""

from __future__ import annotations

import random
from dataclasses import asdict, replace
from statistics import mean

import numpy as np
from ranx import Qrels, Run, evaluate

from eval.runs import Legs, Unit, hybrid_run
from search.fusion import FusionParams

ALPHAS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
ALPHA_MINS = (0.2, 0.3, 0.4)
ALPHA_MAXS = (0.7, 0.8, 0.9)
RRF_KS = (10, 30, 60, 100)
K0S = (20, 50, 100)
ARTICLE_WEIGHTS = (0.0, 0.2, 0.4, 0.6)
METRIC = "ndcg@10"


def grid(article_weights: tuple[float, ...] = ARTICLE_WEIGHTS) -> list[FusionParams]:
    """Every fusion setting tried, each at every k0 and article weight: fixed weighted sums over
    ALPHAS, adaptive weights over (ALPHA_MINS x ALPHA_MAXS), RRF over RRF_KS."""
    weighted = [FusionParams("weighted", alpha, 60, k0) for k0 in K0S for alpha in ALPHAS]
    adaptive = [FusionParams("adaptive", 0.5, 60, k0, lo, hi) for k0 in K0S for lo in ALPHA_MINS for hi in ALPHA_MAXS]
    reciprocal = [FusionParams("rrf", 0.5, k, k0) for k0 in K0S for k in RRF_KS]
    return [replace(p, article_weight=w) for p in weighted + adaptive + reciprocal for w in article_weights]


def article_weights_for(legs: Legs, unit: Unit, current: float) -> tuple[float, ...]:
    """ARTICLE_WEIGHTS where the qrels judge paragraphs; else only the `current` one: judged by
    article, a run scores each article by its best paragraph, which article context never changes."""
    judges_paragraphs = legs.article_of is not None and any(unit(pid) == pid for pid in legs.article_of)
    return ARTICLE_WEIGHTS if judges_paragraphs else (current,)


def per_query_scores(qrels: dict[str, dict[str, int]], legs: Legs, unit: Unit, params: FusionParams,
                     query_ids: list[str]) -> np.ndarray:
    """METRIC of each query (in `query_ids` order) under one fusion setting."""
    run = Run(hybrid_run(legs, params, unit))
    evaluate(Qrels(qrels), run, METRIC, make_comparable=True)  # keeps per-query scores in run.scores
    by_query = run.scores[METRIC]
    return np.array([float(by_query.get(qid, 0.0)) for qid in query_ids])


def folds_of(query_ids: list[str], k: int, seed: int = 13) -> list[list[int]]:
    """Indices of `query_ids` split into k shuffled folds of near-equal size."""
    order = list(range(len(query_ids)))
    random.Random(seed).shuffle(order)
    return [order[i::k] for i in range(k)]


def cross_validate(qrels: dict[str, dict[str, int]], legs: Legs, unit: Unit, k: int = 5,
                   current: FusionParams | None = None) -> dict[str, object]:
    """Held-out METRIC per fold of the setting chosen on the other folds, and the recommendation.

    The recommendation is the setting best over all queries; the held-out mean is the honest
    estimate of what choosing that way is worth on unseen queries. Where article context cannot
    change a run, the article weight stays `current`'s (default: the built-in one) and is not tuned.
    """
    query_ids = sorted(qid for qid in legs.sparse if qid in qrels)
    weights = article_weights_for(legs, unit, (current or FusionParams()).article_weight)
    settings = grid(weights)
    table = np.stack([per_query_scores(qrels, legs, unit, p, query_ids) for p in settings])
    folds = folds_of(query_ids, k)
    held_out = []
    for fold in folds:
        train = np.ones(len(query_ids), dtype=bool)
        train[fold] = False
        best = int(np.argmax(table[:, train].mean(axis=1)))
        held_out.append({"chosen": asdict(settings[best]), "held_out": round(float(table[best, fold].mean()), 4)})
    best_all = int(np.argmax(table.mean(axis=1)))
    return {
        "metric": METRIC, "folds": held_out, "queries": len(query_ids),
        "held_out_mean": round(mean(f["held_out"] for f in held_out), 4),
        "recommended": asdict(settings[best_all]),
        "recommended_in_sample": round(float(table[best_all].mean()), 4),
        "article_weight_tuned": len(weights) > 1,
    }


def how_to_apply(params: dict[str, object], article_weight_tuned: bool = True) -> str:
    """The environment lines that make a setting the default (the article weight only where it was tuned)."""
    article = f"ZHSEARCH_ARTICLE_WEIGHT={params['article_weight']} " if article_weight_tuned else ""
    return (f"ZHSEARCH_FUSION={params['method']} ZHSEARCH_ALPHA={params['alpha']} "
            f"ZHSEARCH_ALPHA_MIN={params['alpha_min']} ZHSEARCH_ALPHA_MAX={params['alpha_max']} "
            f"ZHSEARCH_RRF_K={params['rrf_k']} ZHSEARCH_K0={params['k0']} {article}(environment or .env)")
