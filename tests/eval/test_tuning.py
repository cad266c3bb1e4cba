"""Fusion tuning: the grid, its folds, and a cross-validation whose best setting is known."""

import math

from eval.runs import Legs
from eval.tuning import ARTICLE_WEIGHTS, article_weights_for, cross_validate, folds_of, grid, how_to_apply
from search.hybrid import FusionParams


def sibling_legs(n: int) -> tuple[Legs, dict[str, dict[str, int]]]:
    """n queries whose answer `a{i}.p1` is the sibling of both legs' top hit `a{i}.p0`, while both
    legs rank an unrelated `b{i}.p0` second: only article context lifts the answer above it."""
    sparse, dense, qrels, articles = {}, {}, {}, {}
    for i in range(n):
        q = f"q{i}"
        sparse[q] = [(f"a{i}.p0", 3.0), (f"b{i}.p0", 2.0), (f"a{i}.p1", 1.5), (f"c{i}.p0", 1.0)]
        dense[q] = [(f"a{i}.p0", 0.9), (f"b{i}.p0", 0.8), (f"a{i}.p1", 0.75), (f"c{i}.p0", 0.7)]
        qrels[q] = {f"a{i}.p1": 2}
        for pid, _ in sparse[q]:
            articles[pid] = pid.split(".")[0]
    return Legs(sparse, dense, {q: 0.5 for q in sparse}, articles), qrels


def test_folds_partition_the_queries():
    folds = folds_of([f"q{i}" for i in range(23)], 5)
    assert sorted(i for fold in folds for i in fold) == list(range(23))
    assert {len(fold) for fold in folds} <= {4, 5}


def test_grid_tries_every_article_weight_of_every_setting():
    settings = grid()
    assert len(settings) == len(grid((0.4,))) * len(ARTICLE_WEIGHTS)
    assert {p.article_weight for p in settings} == set(ARTICLE_WEIGHTS)


def test_article_weights_tried_only_where_paragraphs_are_judged():
    legs, _ = sibling_legs(2)
    assert article_weights_for(legs, lambda pid: pid) == ARTICLE_WEIGHTS
    assert article_weights_for(legs, lambda pid: pid.split(".")[0]) == (FusionParams().article_weight,)
    assert article_weights_for(Legs(legs.sparse, legs.dense, legs.covered), lambda pid: pid) == (
        FusionParams().article_weight,)


def test_cross_validation_finds_article_context_and_reports_held_out_scores():
    legs, qrels = sibling_legs(10)
    result = cross_validate(qrels, legs, lambda pid: pid, k=5)
    assert result["queries"] == 10 and len(result["folds"]) == 5
    # Fused, the answer scores 0.25 and b 0.5; article context w gives it 0.25 (1 - w) + w, above b
    # from w > 1/3: it ranks 2nd (nDCG 1/log2(3)) at w = 0.4 or 0.6, else 3rd (1/log2(4)).
    assert all(fold["chosen"]["article_weight"] > 0 for fold in result["folds"])
    assert result["held_out_mean"] == round(1 / math.log2(3), 4)
    assert "ZHSEARCH_ARTICLE_WEIGHT=" in how_to_apply(result["recommended"])
