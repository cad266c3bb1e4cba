"""The dense leg with sentence vectors against a brute-force numpy reference (exact and IVF stores)."""

import numpy as np
import pytest

from index.model.embed import as_unit_rows
from index.store.sentence_store import SentenceStore
from index.store.vector_store import SENTENCE_FILES, VectorStore, VectorStoreError
from search.embedded.segment_dense import SegmentDense, blend


def corpus(n: int, dim: int, seed: int):
    """n paragraph vectors, and 0 or 2-4 sentence vectors for each, grouped by paragraph."""
    rng = np.random.default_rng(seed)
    paragraphs = as_unit_rows(rng.normal(size=(n, dim)))
    counts = rng.choice([0, 2, 3, 4], size=n)
    owners = np.repeat(np.arange(n), counts)
    sentences = as_unit_rows(paragraphs[owners] + 0.8 * rng.normal(size=(len(owners), dim)))
    return paragraphs, sentences, owners


def reference(paragraphs, sentences, owners, query, weight, k, allowed=None):
    """Every paragraph's blended score, computed the slow way; the top k ids."""
    best = np.full(len(paragraphs), -np.inf)
    for row, owner in enumerate(owners):
        best[owner] = max(best[owner], sentences[row] @ query)
    scores = blend(paragraphs @ query, best, weight)
    rows = range(len(paragraphs)) if allowed is None else allowed
    return sorted(((f"p{r:04d}", float(scores[r])) for r in rows), key=lambda p: (-p[1], p[0]))[:k]


def retriever(tmp_path, paragraphs, sentences, owners, weight, ann_threshold=10_000):
    ids = [f"p{r:04d}" for r in range(len(paragraphs))]
    store = VectorStore.build(paragraphs, ids, ann_threshold)
    VectorStore.build(sentences, [ids[o] for o in owners], ann_threshold).save(tmp_path, SENTENCE_FILES)
    store.nprobe = store.index.nlist if store.kind != "exact" else store.nprobe  # probe all: exact by construction
    found = SentenceStore.open(tmp_path, ids)
    found.store.nprobe = found.store.index.nlist if found.store.kind != "exact" else found.store.nprobe
    return SegmentDense(store, found, weight)


@pytest.mark.parametrize("n,k,weight,ann", [(1, 1, 0.7, 10_000), (40, 5, 0.7, 10_000), (300, 20, 0.3, 10_000),
                                            (2500, 10, 0.7, 1000)])
def test_blended_search_matches_brute_force(tmp_path, n, k, weight, ann):
    paragraphs, sentences, owners = corpus(n, 16, n)
    dense = retriever(tmp_path, paragraphs, sentences, owners, weight, ann)
    queries = as_unit_rows(np.random.default_rng(1).normal(size=(5, 16)))
    for query, got in zip(queries, dense.search_vectors(queries, k)):
        expected = reference(paragraphs, sentences, owners, query, weight, k)
        assert [pid for pid, _ in got] == [pid for pid, _ in expected]
        assert np.allclose([s for _, s in got], [s for _, s in expected], atol=1e-5)


def test_a_filter_limits_both_indexes(tmp_path):
    paragraphs, sentences, owners = corpus(200, 8, 7)
    dense = retriever(tmp_path, paragraphs, sentences, owners, 0.7)
    allowed = np.array([3, 17, 18, 90, 150, 199])
    query = as_unit_rows(np.random.default_rng(2).normal(size=(1, 8)))
    got = dense.search_vectors(query, 4, allowed)[0]
    expected = reference(paragraphs, sentences, owners, query[0], 0.7, 4, allowed)
    assert [pid for pid, _ in got] == [pid for pid, _ in expected]
    assert [s for _, s in got] == pytest.approx([s for _, s in expected], abs=1e-5)
    assert dense.search_vectors(query, 4, np.array([], dtype=np.int64))[0] == []


def test_weight_zero_or_no_sentences_is_the_paragraph_search(tmp_path):
    paragraphs, sentences, owners = corpus(50, 8, 3)
    plain = retriever(tmp_path, paragraphs, sentences, owners, 0.0)
    assert plain.sentences is None
    query = as_unit_rows(np.ones((1, 8)))
    assert plain.search_vectors(query, 5) == plain.store.search(query, 5)


def test_sentences_of_unknown_paragraphs_are_refused(tmp_path):
    VectorStore.build(as_unit_rows(np.ones((2, 4))), ["x", "y"]).save(tmp_path, SENTENCE_FILES)
    with pytest.raises(VectorStoreError, match="unknown paragraphs"):
        SentenceStore.open(tmp_path, ["x"])
    assert SentenceStore.open(tmp_path / "missing", ["x"]) is None


def test_a_small_k_still_ranks_from_deep_candidates(tmp_path):
    """k = 1: the best blended paragraph is neither the top paragraph vector nor owns the top 2
    sentences; only a candidate list deeper than k (MIN_CANDIDATES) finds it."""
    def at(cosine: float, axis: int) -> np.ndarray:  # a unit vector at `cosine` to the query e0
        vector = np.zeros(8, dtype=np.float32)
        vector[0], vector[axis] = cosine, np.sqrt(1 - cosine**2)
        return vector

    # rows: 0 = D (paragraph 0.6, no sentences: 0.6), 1 = E (paragraph 0, sentences 0.7: 0.595),
    # 2 = T (paragraph 0.55, sentences 0.69 and 0.1: 0.669, the best)
    paragraphs = np.stack([at(0.6, 1), at(0.0, 2), at(0.55, 3)])
    sentences = np.stack([at(0.7, 4), at(0.7, 5), at(0.69, 6), at(0.1, 7)])
    owners = np.array([1, 1, 2, 2])
    dense = retriever(tmp_path, paragraphs, sentences, owners, 0.85)
    query = at(1.0, 1)[None, :]
    assert reference(paragraphs, sentences, owners, query[0], 0.85, 1)[0][0] == "p0002"
    assert [pid for pid, _ in dense.search_vectors(query, 1)[0]] == ["p0002"]


def test_sentence_rows_of_paragraphs_come_grouped_in_the_order_given(tmp_path):
    paragraphs, sentences, owners = corpus(60, 8, 7)
    found = retriever(tmp_path, paragraphs, sentences, owners, 0.5).sentences
    for picked in (np.array([5, 0, 59, 5, 17]), np.array([], dtype=np.int64), np.arange(60)[::-1]):
        want = [row for p in picked for row in found.order[found.starts[p]:found.starts[p + 1]]]
        assert found.rows_of(picked).tolist() == want
        assert all(owners[row] == p for row, p in zip(found.rows_of(picked), [p for p in picked
                                                                            for _ in range(np.sum(owners == p))]))
