"""judged@k and condensed lists on hand-made runs (exact values), and through an evaluation."""

from __future__ import annotations

import pytest

from eval.holes import condensed, judged_at
from eval.metrics import score

QRELS = {"q1": {"a": 1, "b": 0}, "q2": {"c": 2}}
RUN = {"q1": {"x": 0.9, "a": 0.8, "y": 0.7, "b": 0.6}, "q2": {"c": 0.5}, "q3": {"a": 1.0}}


def test_judged_at_k_counts_graded_documents_in_the_top_k_zero_grades_included():
    assert judged_at(QRELS, RUN, k=2) == pytest.approx((1 / 2 + 1 / 2) / 2)  # q1: x, a; q2: c and a missing place
    assert judged_at(QRELS, RUN, k=4) == pytest.approx((2 / 4 + 1 / 4) / 2)
    assert judged_at(QRELS, {}, k=10) == 0.0  # nothing retrieved: nothing judged


def test_a_tie_is_ranked_by_id_as_ranx_ranks_it():
    assert judged_at({"q": {"b": 1}}, {"q": {"b": 0.5, "a": 0.5}}, k=1) == 0.0  # a comes first


def test_condensed_lists_keep_the_judged_documents_in_order():
    assert condensed(QRELS, RUN) == {"q1": {"a": 0.8, "b": 0.6}, "q2": {"c": 0.5}}
    # the unjudged x above a no longer costs it the first place
    assert score(QRELS, condensed(QRELS, RUN))["mrr@10"] == 1.0 > score(QRELS, RUN)["mrr@10"]


def test_an_evaluation_reports_judged_at_10_and_condenses_on_request(dataset, settings, fake_encoder):
    from eval.evaluate import evaluate_dataset

    full = evaluate_dataset(dataset, settings, encoder=fake_encoder, quiet=True)
    short = evaluate_dataset(dataset, settings, encoder=fake_encoder, quiet=True, condense=True)
    for mode in ("bm25", "dense", "hybrid"):
        assert 0.0 < full.scores[mode]["judged@10"] <= 0.1  # one judged document a query, at most 3 hits
        assert short.scores[mode]["judged@10"] == full.scores[mode]["judged@10"]  # of the runs as served
        assert all(set(ranking) <= set(full.dataset.qrels[qid]) for qid, ranking in short.runs[mode].items())
    assert short.setup["condensed"] and not full.setup["condensed"]


def test_condensed_ndcg_against_values_worked_out_by_hand():
    import math

    # q1: a (grade 1) second behind the unjudged x: DCG 1 / log2(3), ideal 1; q2: c first, 1.0
    assert score(QRELS, RUN)["ndcg@10"] == round((1 / math.log2(3) + 1.0) / 2, 4) == 0.8155
    assert score(QRELS, condensed(QRELS, RUN))["ndcg@10"] == 1.0  # a first once x is dropped
