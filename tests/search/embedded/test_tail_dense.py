"""Small segments searched together against a brute-force numpy reference over every live row."""

import numpy as np
import pytest

from index.model.embed import as_unit_rows
from index.store.sentence_store import SentenceStore
from index.store.vector_store import VectorStore
from search.embedded.corpus import dense_groups
from search.embedded.segment_dense import DensePart, SegmentDense, blend
from search.embedded.tail_dense import TAIL_ROWS, TailDense, in_tail
from search.fusion import ordered

DIM = 8


def segment(n: int, seed: int, prefix: str, with_sentences: bool = True):
    """n paragraph vectors with ids prefix0000...; 0 or 2-4 sentence vectors each (none at all without sentences)."""
    rng = np.random.default_rng(seed)
    paragraphs = as_unit_rows(rng.normal(size=(n, DIM)))
    counts = rng.choice([0, 2, 3, 4], size=n) if with_sentences else np.zeros(n, dtype=int)
    owners = np.repeat(np.arange(n), counts)
    sentences = as_unit_rows(paragraphs[owners] + 0.8 * rng.normal(size=(len(owners), DIM)))
    return [f"{prefix}{r:04d}" for r in range(n)], paragraphs, sentences, owners


def part(seg, weight: float, base: int, deleted=(), ann_threshold: int = 10_000,
         sentence_threshold: int = 10_000) -> DensePart:
    ids, paragraphs, sentences, owners = seg
    store = VectorStore.build(paragraphs, ids, ann_threshold)
    found = SentenceStore(VectorStore.build(sentences, [ids[o] for o in owners], sentence_threshold), ids) \
        if len(owners) else None
    return DensePart(SegmentDense(store, found, weight, np.array(deleted, dtype=np.int64)), base, len(ids))


def reference(segments, deleted, query, weight, k, allowed=None):
    """Every live (and allowed) paragraph's blended score, the slow way; the top k by (-score, id)."""
    out = []
    for n, (ids, paragraphs, sentences, owners) in enumerate(segments):
        best = np.full(len(ids), -np.inf)
        for row, owner in enumerate(owners):
            best[owner] = max(best[owner], sentences[row] @ query)
        scores = blend(paragraphs @ query, best, weight)
        out += [(ids[r], float(scores[r])) for r in range(len(ids))
                if r not in deleted[n] and (allowed is None or (n, r) in allowed)]
    return ordered(out)[:k]


@pytest.mark.parametrize("weight,k", [(0.7, 1), (0.7, 10), (0.3, 25), (0.0, 10), (0.7, 1000)])
def test_the_tail_ranks_every_live_row_exactly(weight, k):
    segments = [segment(n, n, f"s{i}-", with_sentences=i != 2) for i, n in enumerate([1, 7, 40, 300, 3])]
    deleted = [set(), {2, 5}, {0}, set(range(0, 300, 7)), {0, 1, 2}]  # the last segment is all deleted
    parts, base = [], 0
    for seg, gone in zip(segments, deleted):
        parts.append(part(seg, weight, base, sorted(gone)))
        base += len(seg[0])
    tail = TailDense(parts, weight)
    queries = as_unit_rows(np.random.default_rng(1).normal(size=(4, DIM)))
    for query, got in zip(queries, tail.search_vectors(queries, k)):
        expected = reference(segments, deleted, query, weight, k)
        assert [pid for pid, _ in got] == [pid for pid, _ in expected]
        assert [s for _, s in got] == pytest.approx([s for _, s in expected], abs=1e-5)


def test_equal_scores_across_segments_break_by_id():
    """The same vector in three segments (wire copies): the cut at k keeps the smallest ids."""
    vector = as_unit_rows(np.ones((1, DIM)))
    other = as_unit_rows(-np.ones((1, DIM)))
    segs = [(["c"], vector, np.zeros((0, DIM)), np.zeros(0, int)),
            (["z", "b"], np.vstack([other, vector]), np.zeros((0, DIM)), np.zeros(0, int)),
            (["a"], vector, np.zeros((0, DIM)), np.zeros(0, int))]
    parts = [part(segs[0], 0.5, 0), part(segs[1], 0.5, 1), part(segs[2], 0.5, 3)]
    got = TailDense(parts, 0.5).search_vectors(vector, 2)[0]
    assert [pid for pid, _ in got] == ["a", "b"]
    assert got[0][1] == pytest.approx(1.0)


def test_a_filter_is_a_global_row_mask():
    segments = [segment(n, n + 10, f"f{i}-") for i, n in enumerate([5, 60, 12])]
    parts = [part(segments[0], 0.7, 0), part(segments[1], 0.7, 5, [3]), part(segments[2], 0.7, 65)]
    tail = TailDense(parts, 0.7)
    allowed = np.zeros(77, dtype=bool)
    picked = [(0, 4), (1, 0), (1, 59), (2, 11), (2, 6)]
    for n, row in picked:
        allowed[parts[n].base + row] = True
    query = as_unit_rows(np.random.default_rng(2).normal(size=(1, DIM)))
    got = tail.search_vectors(query, 3, tail.rows_in(allowed))[0]
    expected = reference(segments, [set(), {3}, set()], query[0], 0.7, 3, set(picked))
    assert [pid for pid, _ in got] == [pid for pid, _ in expected]
    assert tail.search_vectors(query, 3, tail.rows_in(np.zeros(77, dtype=bool)))[0] == []


def test_small_exact_segments_go_to_the_tail_large_and_lone_ones_do_not():
    small = part(segment(20, 1, "a"), 0.7, 0)
    large_exact = part(segment(TAIL_ROWS + 1, 2, "b"), 0.7, 20)
    ivf = part(segment(300, 3, "c"), 0.7, 20 + TAIL_ROWS + 1, ann_threshold=100)
    ivf_sentences = part(segment(60, 5, "e"), 0.7, 0, sentence_threshold=100)  # ~130 sentences, IVF
    assert ivf_sentences.search.sentences.store.kind != "exact"
    assert in_tail(small) and not in_tail(large_exact) and not in_tail(ivf) and not in_tail(ivf_sentences)
    assert dense_groups([small, ivf_sentences], 0.7)[0] is ivf_sentences  # searched alone, not in the tail
    assert dense_groups([small], 0.7) == [small]  # a fresh build searches as it always has
    groups = dense_groups([ivf, small, large_exact, part(segment(3, 4, "d"), 0.7, 9999)], 0.7)
    assert groups[:2] == [ivf, large_exact]
    assert isinstance(groups[2], TailDense) and [p.size for p in groups[2].parts] == [20, 3]
