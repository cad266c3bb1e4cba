"""FAISS inner-product index and its row -> paragraph id map, aligned row by row.

Exact search (IndexFlatIP) up to `ann_threshold` rows; beyond, an inverted-file index
(IndexIVFFlat, about 4 * sqrt(n) lists, `nprobe` of them searched). On this project's
vectors IVF kept recall@10 >= 0.98 of exact where HNSW (M 32) stayed near 0.9 (bench/).

Lists probed, unless set: NPROBE up to NPROBE_LISTS lists, then growing with the square root of
the list count (bench/search/ivf_sweep.py, 200 queries, paragraph vectors alone): at 100k vectors
(1,264 lists) 64 probes give recall@10 0.990; at 1M (4,000 lists) 64 give 0.982, 96 0.988,
128 0.992 (search 1.0 / 1.5 / 1.9 ms): a fixed count falls behind as lists shrink.
"""

from __future__ import annotations

import errno
import json
import math
import mmap
import os
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import faiss
import numpy as np

from index.settings import ANN_THRESHOLD, NPROBE, NPROBE_LISTS

PARAGRAPH_FILES = ("vectors.faiss", "vector_ids.json")  # (FAISS index, row -> paragraph id)
SENTENCE_FILES = ("sentences.faiss", "sentence_ids.json")  # a sentence row -> the paragraph it is from
TRAIN_ROWS = 64 * 1024  # k-means of the IVF lists sees at most this many rows
BATCH = 8192  # rows added per call: vectors may be a memory map, read a batch at a time
# Fewer queries than this are searched by the calling thread alone. A FAISS OpenMP team woken for
# one query gains nothing and its threads then spin on the 2 cores that the model's threads need:
# on the 10k bench vectors (exact), a flat search then a query encoding took 15.3 ms with 2 FAISS
# threads and 7.0 ms with 1 (the search alone 0.45 vs 0.21 ms). Batches still use every thread.
PARALLEL_QUERIES = 16
# An exact store of at most this many rows is searched in NumPy, without FAISS: a write's segment is a few
# rows, and each call into FAISS releases the interpreter's lock, which a search thread then waits to take back
# from the threads running Python meanwhile (a hybrid query's BM25 leg, other requests): with 16 small segments
# a hybrid query made ~130 such calls. NumPy's product over a few hundred rows costs what FAISS's does.
NUMPY_ROWS = 1024
# IVF stores are opened mapped, not read: FAISS points their lists into the file (zero copy). A segment's files
# are never rewritten once written (a write or merge makes a new folder; old ones are only unlinked, which keeps
# a mapping valid), so what a reader maps does not change under it; a truncated file fails at open as a read does.
# At 100k the sentence index (651 MB) opens in 0.1 s instead of 0.5-0.8 s, its rows in the page cache (shared
# with other processes, evictable) instead of the heap, with the same hits, scores and speed once every page is
# touched (bench/results/2026-12-05-faiss-mapped.md). Exact stores (small by definition) are read: NumPy
# multiplies their rows, and its sums depend on where the rows start (a mapping puts them at the header's
# length), so a merge of small segments would move scores by ~1e-8.
MAPPED = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY


def ivf_lists(n: int, ann_threshold: int = ANN_THRESHOLD) -> int:
    """0 for exact search, else the number of IVF lists for `n` rows (>= 39 training rows per list)."""
    if n < ann_threshold:
        return 0
    return max(1, min(int(4 * np.sqrt(n)), n // 39))


def read_faiss(path: Path) -> faiss.Index:
    """The FAISS index in `path`: mapped if it is an IVF one, read into memory if exact (MAPPED)."""
    index = faiss.read_index(str(path), MAPPED)
    if isinstance(index, faiss.IndexFlat):
        return faiss.read_index(str(path))
    touch_lists(faiss.extract_index_ivf(index).invlists)
    return index


def read_lists(path: Path) -> faiss.Index:
    """The FAISS index in `path`, its stored vectors mapped and left unread: for its trained lists (centroids)."""
    return faiss.read_index(str(path), MAPPED)


def touch_lists(lists: faiss.InvertedLists) -> None:
    """Read one byte of every page of mapped IVF lists, so that searches find them mapped (MAPPED): else the
    first searches to probe a list each take its page faults (dense p50 x1.06 at 100k over HTTP)."""
    page = mmap.PAGESIZE
    for n in range(lists.nlist):
        size = lists.list_size(n)
        if size:
            faiss.rev_swig_ptr(lists.get_codes(n), size * lists.code_size)[::page].max()
            faiss.rev_swig_ptr(lists.get_ids(n), size)[::page // 8].max()


def default_nprobe(lists: int) -> int:
    """Lists to probe in an index of `lists` lists: NPROBE, times sqrt(lists / NPROBE_LISTS) beyond NPROBE_LISTS."""
    return max(NPROBE, math.ceil(NPROBE * math.sqrt(lists / NPROBE_LISTS)))


def new_index(vectors: np.ndarray, lists: int, train_rows: int = TRAIN_ROWS,
              trained: faiss.Index | None = None) -> faiss.Index:
    """An empty exact index (`lists` 0) or an IVF one, its lists trained on an even sample of `vectors`,
    or, with `trained` (an IVF index), the same lists as it has (no training)."""
    dim = vectors.shape[1]
    if trained is not None and isinstance(trained, faiss.IndexIVF):
        quantizer = faiss.clone_index(trained.quantizer)  # the list centroids alone, not the vectors
        index = faiss.IndexIVFFlat(quantizer, dim, trained.nlist, faiss.METRIC_INNER_PRODUCT)
        index.is_trained = True
    elif not lists:
        return faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
        step = max(1, len(vectors) // train_rows)
        index.train(np.ascontiguousarray(vectors[::step][:train_rows], dtype=np.float32))
    index.set_direct_map_type(faiss.DirectMap.Array)  # rows stay reconstructable (merges copy them)
    return index


def add_rows(index: faiss.Index, vectors: np.ndarray) -> None:
    """Add `vectors` (an array or a memory map) to `index`, BATCH rows at a time."""
    for start in range(0, len(vectors), BATCH):
        index.add(np.ascontiguousarray(vectors[start:start + BATCH], dtype=np.float32))


@contextmanager
def faiss_threads(n: int) -> Iterator[None]:
    """FAISS's OpenMP team size for searches made by the calling thread (OpenMP keeps it per thread)."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


@dataclass(frozen=True)
class Exclusion:
    """Rows a search leaves out (deleted ones), with the FAISS selector that does it, built once."""

    rows: np.ndarray  # int64, sorted
    selector: object  # faiss.IDSelectorNot over the batch below
    batch: object  # faiss.IDSelectorBatch of `rows` (referenced here: the Not selector does not own it)

    @classmethod
    def of(cls, rows: np.ndarray) -> "Exclusion | None":
        """None when there is nothing to leave out."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return None
        batch = faiss.IDSelectorBatch(rows)
        return cls(rows, faiss.IDSelectorNot(batch), batch)


class VectorStoreError(RuntimeError):
    """The vector files are missing, unreadable or disagree with each other."""


def best_of(scores: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, rows) of the `k` best of `scores` (row i scores scores[i]); ties keep their order in `rows`."""
    best = np.argsort(-scores, kind="stable")[:k]
    return scores[best], rows[best]


@dataclass
class VectorStore:
    """Unit vectors in a FAISS inner-product index; `ids[row]` is the paragraph id of that row.

    Invariant: rows are L2-normalised, so inner product equals cosine similarity;
    `index.ntotal == len(ids)`.
    """

    index: faiss.Index
    ids: Sequence[str]  # a list, or a view (a sentence store's: index/store/sentence_store.OwnerIds)
    nprobe: int | None = None  # IVF lists searched per query (None: default_nprobe; ignored by exact search)
    _flat: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def build(cls, vectors: np.ndarray, ids: list[str], ann_threshold: int = ANN_THRESHOLD,
              trained: faiss.Index | None = None) -> "VectorStore":
        """A store over `vectors` (n x dim, unit rows; an array or a memory map) with one id per row.

        With `trained` (an IVF index), filed under its lists whatever the rows (index/shared_lists.py decides
        when); without, IVF lists trained anew from `ann_threshold` rows, exact below.
        """
        if vectors.ndim != 2 or vectors.shape[0] != len(ids):
            raise VectorStoreError(f"{vectors.shape[0]} vectors for {len(ids)} ids: they must match")
        lists = ivf_lists(len(ids), ann_threshold)
        index = new_index(vectors, lists, trained=trained if len(ids) else None)  # no rows: exact, empty
        add_rows(index, vectors)
        return cls(index, list(ids))

    @property
    def dim(self) -> int:
        return int(self.index.d)

    @property
    def kind(self) -> str:
        """"exact" or "ivf<lists>"."""
        return f"ivf{self.index.nlist}" if isinstance(self.index, faiss.IndexIVF) else "exact"

    @property
    def probes(self) -> int:
        """IVF lists one search visits (0 for exact search)."""
        if not isinstance(self.index, faiss.IndexIVF):
            return 0
        return min(self.nprobe or default_nprobe(self.index.nlist), self.index.nlist)

    def search(self, queries: np.ndarray, k: int, rows: np.ndarray | None = None,
               exclude: Exclusion | None = None) -> list[list[tuple[str, float]]]:
        """For each query row, up to `k` (paragraph id, cosine) pairs, best first, ties by id.

        `rows`, when given, restricts the search to those row numbers (a filter); `exclude` leaves
        its rows out (deleted ones; ignored when `rows` is given, which must not hold them).
        """
        return [sorted(((self.ids[r], float(s)) for s, r in zip(scores, found)), key=lambda p: (-p[1], p[0]))
                for scores, found in self._top(queries, k, rows, exclude)]

    def search_rows(self, queries: np.ndarray, k: int, rows: np.ndarray | None = None,
                    exclude: Exclusion | None = None) -> list[np.ndarray]:
        """For each query row, the row numbers of its (up to) `k` best vectors (among `rows`, without `exclude`)."""
        return [found for _, found in self._top(queries, k, rows, exclude)]

    def _top(self, queries: np.ndarray, k: int, rows: np.ndarray | None,
             exclude: Exclusion | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """(cosines, row numbers) of each query's top `k`; rows FAISS could not fill are left out."""
        if rows is not None:
            exclude = None
        available = (self.index.ntotal - (len(exclude.rows) if exclude is not None else 0)) if rows is None \
            else len(rows)
        k = min(k, available)
        if k <= 0:
            return [(np.zeros(0, np.float32), np.zeros(0, np.int64)) for _ in range(len(queries))]
        small = isinstance(self.index, faiss.IndexFlat) and self.index.ntotal <= NUMPY_ROWS  # no FAISS call
        narrow = isinstance(self.index, faiss.IndexIVF) and rows is not None and len(rows) <= ANN_THRESHOLD
        if rows is not None and (small or narrow):  # (probed lists may miss a narrow filter)
            return [self._exact_among(query, k, rows) for query in queries]
        if small:
            return self._exact_live(queries, k, exclude)
        if exclude is not None:
            selector = exclude.selector
        else:
            selector = None if rows is None else faiss.IDSelectorBatch(rows.astype(np.int64))
        if isinstance(self.index, faiss.IndexIVF):
            params = faiss.SearchParametersIVF(nprobe=self.probes, sel=selector)
        else:
            params = None if selector is None else faiss.SearchParameters(sel=selector)
        with faiss_threads(1 if len(queries) < PARALLEL_QUERIES else faiss.omp_get_max_threads()):
            scores, found = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k, params=params)
        return [(score_row[id_row >= 0], id_row[id_row >= 0]) for score_row, id_row in zip(scores, found)]

    def _exact_among(self, query: np.ndarray, k: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact top `k` of one query among `rows` (a few thousand at most: see `_top`)."""
        return best_of(self.vectors(rows) @ np.asarray(query, dtype=np.float32), np.asarray(rows, dtype=np.int64), k)

    def _exact_live(self, queries: np.ndarray, k: int,
                    exclude: Exclusion | None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Exact top `k` of each query among every row but `exclude`'s, from one product over FAISS's own array
        (no copy of the vectors)."""
        scores = np.asarray(queries, dtype=np.float32) @ self.flat_rows().T
        live = np.arange(self.index.ntotal, dtype=np.int64)
        if exclude is not None:
            live = np.setdiff1d(live, exclude.rows)
            scores = scores[:, live]
        return [best_of(row, live, k) for row in scores]

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of `rows`, in that order."""
        if not len(rows):
            return np.zeros((0, self.dim), dtype=np.float32)
        if isinstance(self.index, faiss.IndexFlat):  # rows straight from its one contiguous array (no reconstruct)
            return self.flat_rows()[np.asarray(rows, dtype=np.int64)]
        return self.index.reconstruct_batch(np.asarray(rows, dtype=np.int64))

    def flat_rows(self) -> np.ndarray:
        """An exact index's vectors as an (ntotal, dim) array over FAISS's own memory (no copy), made once per size
        (a store's index gets no rows once built; the size check keeps a view in step if it ever did)."""
        if self._flat is None or len(self._flat) != self.index.ntotal:
            flat = faiss.rev_swig_ptr(self.index.get_xb(), self.index.ntotal * self.dim)
            self._flat = flat.reshape(self.index.ntotal, self.dim)
            self._flat.flags.writeable = False  # FAISS's own memory: the store's rows, never written through this
        return self._flat

    def save(self, folder: Path, files: tuple[str, str] = PARAGRAPH_FILES) -> None:
        """Write the FAISS index and the ids into `folder` under `files` (a full disk raises OSError ENOSPC)."""
        try:
            faiss.write_index(self.index, str(folder / files[0]))
        except RuntimeError as err:  # FAISS reports a failed write as a RuntimeError naming the errno's text
            if os.strerror(errno.ENOSPC) in str(err):
                raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)}: {folder / files[0]}") from err
            raise
        (folder / files[1]).write_text(json.dumps(self.ids, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def open(cls, folder: Path, files: tuple[str, str] = PARAGRAPH_FILES) -> "VectorStore":
        """Read a store written by `save`, checking that rows and ids agree."""
        try:
            index = read_faiss(folder / files[0])
            ids = json.loads((folder / files[1]).read_text(encoding="utf-8"))
        except (OSError, RuntimeError, ValueError) as err:
            raise VectorStoreError(f"cannot read vectors in {folder}: {err}") from err
        if index.ntotal != len(ids):
            raise VectorStoreError(f"{folder}: {index.ntotal} vectors but {len(ids)} ids; rebuild the index")
        return cls(index, ids)
