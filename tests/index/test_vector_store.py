"""The FAISS store against a brute-force numpy reference, on odd sizes."""

import numpy as np
import pytest

from index.embed import as_unit_rows
from index.vector_store import VectorStore, VectorStoreError


@pytest.mark.parametrize("n,dim,k", [(1, 3, 1), (7, 5, 3), (33, 17, 10), (101, 8, 200)])
def test_search_matches_brute_force(tmp_path, n, dim, k):
    rng = np.random.default_rng(n)
    vectors = as_unit_rows(rng.normal(size=(n, dim)))
    queries = as_unit_rows(rng.normal(size=(4, dim)))
    ids = [f"p{i:04d}" for i in range(n)]
    store = VectorStore.build(vectors, ids)
    store.save(tmp_path)
    reopened = VectorStore.open(tmp_path)
    for query, got in zip(queries, reopened.search(queries, k)):
        scores = vectors @ query
        expected = sorted(((ids[i], float(scores[i])) for i in range(n)), key=lambda p: (-p[1], p[0]))[:k]
        assert [pid for pid, _ in got] == [pid for pid, _ in expected]
        assert np.allclose([s for _, s in got], [s for _, s in expected], atol=1e-5)


def test_rows_and_ids_must_agree():
    with pytest.raises(VectorStoreError):
        VectorStore.build(np.zeros((2, 3), dtype=np.float32), ["only-one"])


def test_unreadable_files_are_a_clear_error(tmp_path):
    with pytest.raises(VectorStoreError, match="cannot read vectors"):
        VectorStore.open(tmp_path)
