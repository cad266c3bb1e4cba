"""Whoosh's BM25F as numbers: the term-frequency part of a posting and a term's idf, for any engine.

The embedded engine applies them to its postings at query time (search/embedded/collection.py);
the Milvus one stores the term-frequency part in each paragraph's sparse vector and puts the
idf in the query's (index/milvus/sparse.py), so that an inner product is the same BM25F score.
"""

from __future__ import annotations

import math

import numpy as np

from index.store.postings.segment_postings import QUANTISED_LENGTHS

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


def norm(length: float, average: float) -> float:
    """BM25's length normalisation of a field of (quantised) `length` in a collection of that average length."""
    return (1 - B) + B * length / average


def tf_part(weight: float, length: float, average: float) -> float:
    """One posting's term-frequency part: `tf_table`'s expression for one weight and (quantised) field length."""
    return (weight * (K1 + 1)) / (weight + K1 * ((1 - B) + B * length / average))


def weight_of(part: float, length: float, made_with: float) -> float:
    """The posting weight a term-frequency part was made from at average field length `made_with` (tf_part's inverse)."""
    return part * K1 * norm(length, made_with) / (K1 + 1 - part)


def drift(made_with: tuple[float, float], average: float) -> float:
    """The largest relative change between a part made at any average within `made_with` (least, most) and the same
    posting's part at `average`: less than the ratio of the averages, whatever the weight and field length."""
    least, most = made_with
    return max(average / least, most / average, 1.0) - 1.0
