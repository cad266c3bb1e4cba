"""Article context: exact arithmetic on a small list, invariants on random ones, and on a fused list."""

from hypothesis import given
from hypothesis import strategies as st
from pytest import approx

from search.article_context import with_article_context
from search.fusion import FusionParams, collapse, fuse, ordered


def article(pid: str) -> str:
    return pid.split(".")[0]


def test_a_paragraph_moves_towards_its_articles_best():
    ranked = [("x.p0", 0.9), ("y.p0", 0.6), ("x.p1", 0.5), ("z.p0", 0.55)]
    scored = dict(with_article_context(ranked, article, 0.4))
    assert scored["x.p0"] == 0.9 and scored["y.p0"] == 0.6 and scored["z.p0"] == 0.55  # each its article's best
    assert scored["x.p1"] == approx(0.6 * 0.5 + 0.4 * 0.9)
    # x.p1 (0.66) now ranks above the lone y.p0 (0.6) and z.p0 (0.55) it trailed.
    assert [pid for pid, _ in with_article_context(ranked, article, 0.4)] == ["x.p0", "x.p1", "y.p0", "z.p0"]


def test_weight_zero_only_orders():
    ranked = [("b.p0", 0.2), ("a.p0", 0.7), ("a.p1", 0.2)]
    assert with_article_context(ranked, article, 0.0) == ordered(ranked)


ranked_lists = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", "d"]).flatmap(
        lambda art: st.integers(0, 5).map(lambda n: f"{art}.p{n}")), st.floats(-10, 10, allow_nan=False)),
    max_size=20, unique_by=lambda pair: pair[0],
)


@given(ranked_lists, st.floats(0, 1))
def test_article_best_scores_and_article_order_are_kept(ranked, weight):
    scored = with_article_context(ranked, article, weight)
    assert {pid for pid, _ in scored} == {pid for pid, _ in ranked}
    assert scored == ordered(scored)
    before = dict(collapse(ranked, article))
    assert dict(collapse(scored, article)) == before  # exactly: each article's best keeps its score
    # No paragraph rises above its article's best, and none falls.
    original = dict(ranked)
    for pid, score in scored:
        assert original[pid] <= score <= before[article(pid)]


def test_article_context_on_a_fused_list():
    sparse = [("x.p0", 4.0), ("y.p0", 2.0), ("x.p1", 1.0)]
    dense = [("x.p0", 0.9), ("y.p0", 0.8), ("x.p1", 0.7)]
    params = FusionParams("weighted", alpha=0.5, article_weight=0.5)
    plain = dict(fuse(sparse, dense, params))
    # min-max per leg: x.p0 1 and 1, y.p0 1/3 and 1/2, x.p1 0 and 0.
    assert plain["y.p0"] == approx(0.5 * (2.0 - 1.0) / 3.0 + 0.5 * (0.8 - 0.7) / 0.2)
    assert plain["x.p1"] == 0.0
    with_context = dict(with_article_context(fuse(sparse, dense, params), article, params.article_weight))
    assert with_context["x.p1"] == 0.0 + 0.5 * (1.0 - 0.0)
    assert with_context["y.p0"] == plain["y.p0"] and with_context["x.p0"] == plain["x.p0"]
