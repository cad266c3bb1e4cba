"""Explain: the numbers a hit's explanation gives are the ones its ranking used."""

from __future__ import annotations

import pytest

from index.builder import build_index
from index.tokenize import tokenizer_from
from search.engine import open_searcher
from search.explain import dense_weight, hybrid_explanations
from search.fusion import FusionParams, weighted_sum


def test_hybrid_explanations_of_hand_made_legs():
    sparse, dense = [("a.p000", 10.0), ("b.p000", 5.0)], [("b.p000", 0.9), ("c.p000", 0.5)]
    fused = weighted_sum(sparse, dense, 0.5)  # a: 0.5 x 1; b: 0.5 x 0 + 0.5 x 1; c: 0.5 x 0
    out = hybrid_explanations(fused, sparse, dense, fused, "weighted", 0.5, "fixed", 60, lambda pid: pid[0])
    assert out["a.p000"]["bm25"] == {"score": 10.0, "rank": 1, "normalised": 1.0}
    assert out["a.p000"]["dense"] == {"score": None, "rank": None, "normalised": 0.0}
    assert out["b.p000"]["bm25"]["normalised"] == 0.0 and out["b.p000"]["dense"]["normalised"] == 1.0
    assert out["c.p000"]["fused"] == 0.0 and out["c.p000"]["article_context"]["added"] == 0.0
    assert dense_weight("adaptive", 0.5, 1.0, 0.4, 0.8)[0] == pytest.approx(0.4)
    assert "holds 25%" in dense_weight("adaptive", 0.5, 0.25, 0.4, 0.8)[1]


@pytest.fixture
def searcher(settings, tiny_articles, fake_encoder):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["t"], quiet=True)
    return open_searcher(settings, fake_encoder)


@pytest.mark.parametrize("method", ["adaptive", "weighted", "rrf"])
def test_a_hybrid_explanation_adds_up_to_the_hit_s_score(searcher, method):
    params = FusionParams(method=method, k0=20)
    result = searcher.search("职工 培训", "hybrid", k=5, offset=1, params=params, explain=True)
    sparse = [pid for pid, _ in searcher.bm25.search("职工 培训", 20, count=False)[0]]
    dense = [pid for pid, _ in searcher.dense.search("职工 培训", 20)]
    assert result.hits
    for hit in result.hits:
        why = hit.explain
        assert why["score"] == hit.score and why["fusion"] == method
        assert why["fused"] + why["article_context"]["added"] == pytest.approx(hit.score, abs=1e-12)
        assert why["bm25"]["rank"] == (sparse.index(hit.paragraph.id) + 1 if hit.paragraph.id in sparse else None)
        assert why["dense"]["rank"] == (dense.index(hit.paragraph.id) + 1 if hit.paragraph.id in dense else None)
        if method == "rrf":
            assert why["fused"] == pytest.approx(why["rrf"]["bm25"] + why["rrf"]["dense"])
        else:
            weight = why["dense_weight"]
            assert why["fused"] == pytest.approx((1 - weight) * why["bm25"]["normalised"]
                                                 + weight * why["dense"]["normalised"])


def test_single_leg_explanations_and_none_unless_asked(searcher):
    plain = searcher.search("职工", "bm25", k=3)
    assert all(hit.explain is None for hit in plain.hits)
    for mode in ("bm25", "dense"):
        page = searcher.search("职工", mode, k=3, offset=2, explain=True)
        assert [hit.explain[mode]["rank"] for hit in page.hits] == [hit.rank for hit in page.hits]
        assert all(hit.explain[mode]["score"] == hit.score for hit in page.hits)
