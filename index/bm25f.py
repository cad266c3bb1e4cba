"""Whoosh's BM25F as numbers: the term-frequency part of a posting and a term's idf, for any engine.

The embedded engine applies them to its postings at query time (search/embedded/collection.py);
the Milvus one stores the term-frequency part in each paragraph's sparse vector and puts the
idf in the query's (index/milvus/sparse.py), so that an inner product is the same BM25F score.
"""

from __future__ import annotations

import math

import numpy as np

from index.store.postings import QUANTISED_LENGTHS

K1 = 1.2
B = 0.75


def tf_table(weights: np.ndarray, average: float) -> np.ndarray:
    """BM25's term-frequency part for every (weight index, length byte): flat, indexed by a posting's code.

    Whoosh's own expression, element by element: (tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)).
    """
    tf = weights[:, None]
    fl = QUANTISED_LENGTHS[None, :]
    return ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / average))).ravel()


def idf(live: int, df: int) -> float:
    """Whoosh's BM25F idf of a term in `df` of `live` documents."""
    return math.log(live / (df + 1)) + 1


def classic_idf(live: int, df: int) -> float:
    """BM25's classic idf, log(1 + (N - df + 0.5) / (df + 0.5)) (adaptive fusion weighs query terms by it)."""
    return math.log(1.0 + (live - df + 0.5) / (df + 0.5))


def average_length(total: int, live: int) -> float:
    """A field's average length over the live documents, as Whoosh takes it (1 where it would be 0)."""
    return (total / live if live else 0.0) or 1.0
