"""Fusion tuning: the grid, its folds, and a cross-validation whose best setting is known."""

import math

from eval.runs import Legs
from eval.tuning import ARTICLE_WEIGHTS, article_weights_for, cross_validate, folds_of, grid, how_to_apply
from search.fusion import FusionParams


def sibling_legs(n: int) -> tuple[Legs, dict[str, dict[str, int]]]:
    """n queries whose answer `a{i}.p1` is the sibling of both legs' top hit `a{i}.p0`, while both
    legs rank an unrelated `b{i}.p0` second: only article context lifts the answer above it.

    Min-max per leg, every fusion gives a.p0 1, b.p0 0.625, a.p1 0.25, c.p0 0 (exact in binary)."""
    sparse, dense, qrels, articles = {}, {}, {}, {}
    for i in range(n):
        q = f"q{i}"
        sparse[q] = [(f"a{i}.p0", 3.0), (f"b{i}.p0", 2.25), (f"a{i}.p1", 1.5), (f"c{i}.p0", 1.0)]
        dense[q] = [(f"a{i}.p0", 1.0), (f"b{i}.p0", 0.8125), (f"a{i}.p1", 0.625), (f"c{i}.p0", 0.5)]
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
    assert article_weights_for(legs, lambda pid: pid, 0.1) == ARTICLE_WEIGHTS
    assert article_weights_for(legs, lambda pid: pid.split(".")[0], 0.1) == (0.1,)
    assert article_weights_for(Legs(legs.sparse, legs.dense, legs.covered), lambda pid: pid, 0.1) == (0.1,)


def test_cross_validation_finds_article_context_and_reports_held_out_scores():
    legs, qrels = sibling_legs(10)
    result = cross_validate(qrels, legs, lambda pid: pid, k=5)
    assert result["queries"] == 10 and len(result["folds"]) == 5
    # Article context w gives the answer 0.25 + w (1 - 0.25), above b's 0.625 from w > 0.5: it ranks
    # 2nd (nDCG 1/log2(3)) at w = 0.6 only, else 3rd (1/log2(4)).
    assert [fold["chosen"]["article_weight"] for fold in result["folds"]] == [0.6] * 5
    assert result["held_out_mean"] == round(1 / math.log2(3), 4)
    assert result["article_weight_tuned"]
    assert "ZHSEARCH_ARTICLE_WEIGHT=0.6" in how_to_apply(result["recommended"])


def test_by_document_the_article_weight_is_kept_and_not_advised():
    legs, qrels = sibling_legs(4)
    by_article = {f"q{i}": {f"a{i}": 2} for i in range(4)}
    result = cross_validate(by_article, legs, lambda pid: pid.split(".")[0], k=2,
                            current=FusionParams(article_weight=0.0))
    assert not result["article_weight_tuned"]
    assert {fold["chosen"]["article_weight"] for fold in result["folds"]} == {0.0}
    assert "ARTICLE_WEIGHT" not in how_to_apply(result["recommended"], result["article_weight_tuned"])
