"""Fusion rules: exact arithmetic on small lists, and properties on random ones."""

from hypothesis import given
from hypothesis import strategies as st

import pytest

from search.fusion import adaptive_alpha, collapse, coverage, min_max, ordered, rrf, weighted_sum


def test_rrf_sums_reciprocal_ranks():
    fused = dict(rrf([[("a", 3.0), ("b", 2.0)], [("b", 0.9), ("c", 0.5)]], k=60))
    assert fused["b"] == 1 / (60 + 2) + 1 / (60 + 1)
    assert fused["a"] == 1 / (60 + 1)
    assert fused["c"] == 1 / (60 + 2)


def test_rrf_ranks_each_list_by_score_then_id():
    fused = dict(rrf([[("z", 1.0), ("a", 1.0)]], k=60))
    assert fused["a"] == 1 / (60 + 1) and fused["z"] == 1 / (60 + 2)


def test_min_max_maps_to_unit_interval():
    assert dict(min_max([("a", 10.0), ("b", 5.0), ("c", 0.0)])) == {"a": 1.0, "b": 0.5, "c": 0.0}
    assert min_max([("a", 3.0), ("b", 3.0)]) == [("a", 1.0), ("b", 1.0)]
    assert min_max([]) == []


def test_weighted_sum_counts_a_missing_leg_as_zero():
    fused = dict(weighted_sum([("a", 4.0), ("b", 2.0)], [("b", 0.9), ("c", 0.7)], alpha=0.25))
    assert fused["a"] == 0.75 * 1.0
    assert fused["b"] == 0.75 * 0.0 + 0.25 * 1.0
    assert fused["c"] == 0.25 * 0.0


def test_ties_break_by_id():
    assert ordered([("b", 1.0), ("a", 1.0), ("c", 2.0)]) == [("c", 2.0), ("a", 1.0), ("b", 1.0)]


def test_collapse_keeps_best_member():
    ranked = [("d1.p001", 0.9), ("d2.p000", 0.8), ("d1.p000", 0.5)]
    assert collapse(ranked, lambda pid: pid.split(".")[0]) == [("d1", 0.9), ("d2", 0.8)]


ranked_lists = st.lists(
    st.tuples(st.text("abcdef", min_size=1, max_size=3), st.floats(-100, 100, allow_nan=False)),
    max_size=20, unique_by=lambda pair: pair[0],
)


@given(ranked_lists, ranked_lists, st.floats(0, 1))
def test_weighted_sum_properties(sparse, dense, alpha):
    fused = weighted_sum(sparse, dense, alpha)
    ids = {d for d, _ in sparse} | {d for d, _ in dense}
    assert {d for d, _ in fused} == ids
    assert fused == ordered(fused)
    assert all(-1e-9 <= s <= 1 + 1e-9 for _, s in fused)


@given(ranked_lists, ranked_lists, st.integers(1, 100))
def test_rrf_properties(a, b, k):
    fused = rrf([a, b], k)
    assert {d for d, _ in fused} == {d for d, _ in a} | {d for d, _ in b}
    assert fused == ordered(fused)
    assert all(0 < s <= 2 / (k + 1) + 1e-12 for _, s in fused)


@given(ranked_lists)
def test_min_max_properties(ranked):
    normed = min_max(ranked)
    assert sorted(d for d, _ in normed) == sorted(d for d, _ in ranked)
    assert all(0.0 <= s <= 1.0 for _, s in normed)
    assert normed == ordered(normed)


def test_coverage_weighs_terms_by_idf():
    assert coverage({"工匠": 3.0, "的": 1.0}, {"工匠", "学院"}) == 3.0 / (3.0 + 1.0)
    assert coverage({}, {"x"}) == 0.0


def test_adaptive_alpha_moves_between_bounds():
    assert adaptive_alpha(0.0, 0.3, 0.8) == 0.8
    assert adaptive_alpha(1.0, 0.3, 0.8) == pytest.approx(0.3)
    assert adaptive_alpha(0.5, 0.3, 0.8) == pytest.approx(0.8 - 0.5 * 0.5)
    assert adaptive_alpha(7.0, 0.3, 0.8) == pytest.approx(0.3)


@pytest.mark.parametrize("size", [50, 3000])  # below and above SORT_IN_NUMPY: sorted by Python and by NumPy
def test_top_ranked_orders_by_score_then_id_with_ties_across_the_cut(size):
    import numpy as np

    from search.fusion import SORT_IN_NUMPY, top_ranked

    rng = np.random.default_rng(size)
    scores = rng.integers(0, 40, size).astype(np.float64) / 8  # many ties
    rows = rng.permutation(10 * size)[:size]
    names = {int(r): f"a{int(r) % 97:03d}.p{int(r):05d}" for r in rows}  # ids not in row order

    def ids_of(wanted):
        return [names[int(r)] for r in wanted]

    for k in (1, 10, size // 3, size):
        want = ordered(zip(ids_of(rows), scores.tolist()))[:k]
        assert top_ranked(scores, rows, k, ids_of) == want
    assert (size >= SORT_IN_NUMPY) == (size == 3000)
