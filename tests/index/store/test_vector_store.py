"""The FAISS store against a brute-force numpy reference, on odd sizes."""

import threading

import faiss
import numpy as np
import pytest

from index.model.embed import as_unit_rows
from index.settings import NPROBE, NPROBE_LISTS
from index.store.vector_store import (
    PARALLEL_QUERIES, VectorStore, VectorStoreError, default_nprobe, faiss_threads, ivf_lists,
)


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


def clustered(n: int, dim: int, seed: int) -> np.ndarray:
    """Unit vectors around 40 centres, as sentence embeddings of a few topics are."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, dim))
    return as_unit_rows(centres[rng.integers(0, 40, n)] + 0.6 * rng.normal(size=(n, dim)))


def test_ivf_beyond_the_threshold_keeps_recall_and_reopens(tmp_path):
    vectors, queries = clustered(4000, 32, 1), clustered(50, 32, 2)
    ids = [f"p{i:05d}" for i in range(len(vectors))]
    store = VectorStore.build(vectors, ids, ann_threshold=1000)
    assert store.kind.startswith("ivf") and VectorStore.build(vectors, ids).kind == "exact"
    store.save(tmp_path)
    reopened = VectorStore.open(tmp_path)
    assert reopened.kind == store.kind
    found = reopened.search(queries, 10)
    exact = [np.argsort(-(vectors @ q))[:10] for q in queries]
    recall = np.mean([len({pid for pid, _ in got} & {ids[i] for i in best}) / 10 for got, best in zip(found, exact)])
    assert recall >= 0.95
    assert np.allclose(reopened.index.reconstruct_n(0, 5), vectors[:5], atol=1e-6)  # updates copy rows out


def test_ivf_with_a_narrow_filter_is_exact_among_the_rows(tmp_path):
    vectors, queries = clustered(3000, 16, 3), clustered(5, 16, 4)
    ids = [f"p{i:05d}" for i in range(len(vectors))]
    store = VectorStore.build(vectors, ids, ann_threshold=1000)
    rows = np.arange(7, 3000, 97)
    for query, got in zip(queries, store.search(queries, 5, rows)):
        scores = vectors[rows] @ query
        assert [pid for pid, _ in got] == [ids[rows[i]] for i in np.argsort(-scores)[:5]]


def test_default_nprobe_grows_with_the_square_root_of_the_lists():
    assert NPROBE_LISTS == ivf_lists(100_000)  # where NPROBE was measured
    assert default_nprobe(10) == default_nprobe(NPROBE_LISTS) == NPROBE
    assert default_nprobe(4 * NPROBE_LISTS) == 2 * NPROBE
    assert default_nprobe(4000) == 114  # the 1M-paragraph index (bench/search/ivf_sweep.py)


def test_an_unset_nprobe_probes_by_the_list_count_and_a_set_one_is_capped():
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(4), 4, 4000, faiss.METRIC_INNER_PRODUCT)
    store = VectorStore(index, [])
    assert store.nprobe is None and store.probes == 114
    store.nprobe = 5000
    assert store.probes == 4000
    assert VectorStore(faiss.IndexFlatIP(4), []).probes == 0


def test_an_unset_nprobe_searches_with_the_default_probes():
    vectors, queries = clustered(4000, 32, 5), clustered(30, 32, 6)
    store = VectorStore.build(vectors, [f"p{i:05d}" for i in range(len(vectors))], ann_threshold=1000)
    unset = store.search(queries, 10)
    store.nprobe = default_nprobe(store.index.nlist)
    assert store.search(queries, 10) == unset
    store.nprobe = 1
    assert store.search(queries, 10) != unset


def test_faiss_threads_is_set_per_thread_and_restored():
    before = faiss.omp_get_max_threads()
    seen: dict[int, int] = {}
    both_inside = threading.Barrier(2)

    def hold(n: int) -> None:
        with faiss_threads(n):
            both_inside.wait(timeout=10)  # both settings in force at once
            seen[n] = faiss.omp_get_max_threads()
            both_inside.wait(timeout=10)

    threads = [threading.Thread(target=hold, args=(n,)) for n in (1, before + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {1: 1, before + 1: before + 1}
    assert faiss.omp_get_max_threads() == before


class RecordingIndex:
    """A FAISS flat index that notes the OpenMP team size each search runs with."""

    def __init__(self, inner: faiss.Index) -> None:
        self.inner, self.threads = inner, []

    @property
    def ntotal(self) -> int:
        return self.inner.ntotal

    def search(self, *args, **kwargs):
        self.threads.append(faiss.omp_get_max_threads())
        return self.inner.search(*args, **kwargs)


def test_a_few_queries_search_in_the_calling_thread_alone_a_batch_with_the_team():
    vectors, queries = clustered(500, 16, 7), clustered(PARALLEL_QUERIES, 16, 8)
    flat = faiss.IndexFlatIP(16)
    flat.add(vectors)
    store = VectorStore(RecordingIndex(flat), [f"p{i:05d}" for i in range(len(vectors))])
    before = faiss.omp_get_max_threads()
    store.search(queries[:1], 10)
    store.search(queries[:PARALLEL_QUERIES - 1], 10)
    store.search(queries, 10)
    assert store.index.threads == [1, 1, before]
    assert faiss.omp_get_max_threads() == before


def refuse(*args, **kwargs):
    raise AssertionError("FAISS was called")


def every_kind_of_search(store: VectorStore, queries: np.ndarray, deleted, among: np.ndarray) -> list:
    """The searches a segment makes: plain, without deleted rows, among a filter's rows (deleted ones ignored
    there, as `rows` must hold none), deeper than the store, and row numbers only."""
    return [store.search(queries, 10), store.search(queries, 10, exclude=deleted),
            store.search(queries, 3, rows=among, exclude=deleted), store.search(queries, 5000, exclude=deleted),
            [found.tolist() for found in store.search_rows(queries, 10, exclude=deleted)]]


@pytest.mark.parametrize("n", [1, 60, 1024, 1025])
def test_a_small_exact_store_is_searched_in_numpy_as_faiss_would(monkeypatch, n):
    from index.store import vector_store
    from index.store.vector_store import NUMPY_ROWS, Exclusion

    rng = np.random.default_rng(n)
    base = as_unit_rows(rng.normal(size=(-(-n // 3), 12)))
    vectors = np.vstack([base] * 3)[:n] if n >= 3 else base[:n]  # every vector thrice: exact ties
    queries = as_unit_rows(rng.normal(size=(3, 12)))
    store = VectorStore.build(vectors, [f"p{i:04d}" for i in range(n)])
    deleted = Exclusion.of(np.array([r for r in (2, 5, 40) if r < n], dtype=np.int64))
    among = np.array([r for r in (0, 1, 3, 7, 9, 50, 1024) if r < n], dtype=np.int64)

    if n <= NUMPY_ROWS:
        monkeypatch.setattr(store.index, "search", refuse)  # no call into FAISS (each releases the GIL)
    mine = every_kind_of_search(store, queries, deleted, among)
    monkeypatch.undo()
    monkeypatch.setattr(vector_store, "NUMPY_ROWS", 0)  # FAISS for every store
    theirs = every_kind_of_search(store, queries, deleted, among)
    for ours, faiss_ones in zip(mine[:4], theirs[:4]):
        for got, want in zip(ours, faiss_ones):
            assert np.allclose([s for _, s in got], [s for _, s in want], atol=1e-5)
            # the same paragraphs, except which of several equal vectors fills the last places (a tie at the cut)
            cut = want[-1][1] + 1e-5 if want else 0.0
            assert [pid for pid, s in got if s > cut] == [pid for pid, s in want if s > cut]
    for query, got, want in zip(queries, mine[4], theirs[4]):
        assert np.allclose(vectors[got] @ query, vectors[want] @ query, atol=1e-5)
    gone = {f"p{r:04d}" for r in (2, 5, 40) if r < n}
    assert all(len(got) == n - len(gone) for got in mine[3])
    assert not gone & {pid for got in mine[1] + mine[3] for pid, _ in got}


def mapped_files() -> set[str]:
    """Paths of the files this process has mapped."""
    with open("/proc/self/maps", encoding="utf-8") as maps:
        return {line.split(maxsplit=5)[5].strip() for line in maps if len(line.split(maxsplit=5)) == 6}


def test_an_ivf_store_is_mapped_and_answers_as_one_read_into_memory(tmp_path):
    vectors, queries = clustered(4000, 32, 3), clustered(20, 32, 4)
    ids = [f"p{i:05d}" for i in range(len(vectors))]
    VectorStore.build(vectors, ids, ann_threshold=1000).save(tmp_path)
    path = str(tmp_path / "vectors.faiss")
    opened = VectorStore.open(tmp_path)
    assert path in mapped_files()
    read = VectorStore(faiss.read_index(path), ids)
    assert opened.search(queries, 10) == read.search(queries, 10)
    rows = np.arange(0, 4000, 7)
    assert np.array_equal(opened.vectors(rows), read.vectors(rows))


def test_an_exact_store_is_read_and_its_rows_cannot_be_written(tmp_path):
    vectors = clustered(50, 8, 5)
    VectorStore.build(vectors, [f"p{i}" for i in range(50)]).save(tmp_path)
    opened = VectorStore.open(tmp_path)
    assert str(tmp_path / "vectors.faiss") not in mapped_files()
    with pytest.raises(ValueError, match="read-only"):
        opened.flat_rows()[0] *= 2


def test_a_truncated_ivf_file_is_a_clear_error_not_a_crash(tmp_path):
    vectors = clustered(4000, 32, 6)
    VectorStore.build(vectors, [f"p{i}" for i in range(4000)], ann_threshold=1000).save(tmp_path)
    path = tmp_path / "vectors.faiss"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(VectorStoreError, match="cannot read vectors"):
        VectorStore.open(tmp_path)
