"""BM25F as sparse vectors: a paragraph's vector holds each of its terms' term-frequency part, a query's the
idf times the boost, so their inner product is the paragraph's BM25F score for the query.

Dimensions are vocabulary ids (index/milvus/schema.py, <name>_terms), one per (field, term),
handed out in order and never reused; not hashes (32-bit hashes of a million terms collide).
The term-frequency part depends on the collection's average field length, baked in when the
vector is written (index/bm25f.tf_table): exact for an export, where every vector is made with
the live average; writes made later use the average of their time (docs/milvus.md says by how
much that moves scores).
"""

from __future__ import annotations

import numpy as np

from index.bm25f import tf_table
from index.milvus.rows import term_key
from index.store.postings import FIELDS, SegmentPostings


def slot_keys(postings: SegmentPostings) -> list[str]:
    """The vocabulary key of every slot of a segment's postings, by slot."""
    keys = [""] * postings.slot_count
    for fieldname, terms in postings.slots.items():
        for term, slot in terms.items():
            keys[slot] = term_key(fieldname, term)
    return keys


def slot_fields(postings: SegmentPostings) -> np.ndarray:
    """The field index (into FIELDS) of every slot."""
    out = np.zeros(postings.slot_count, dtype=np.int64)
    for fieldname, terms in postings.slots.items():
        out[np.fromiter(terms.values(), dtype=np.int64, count=len(terms))] = FIELDS.index(fieldname)
    return out


def live_df(postings: SegmentPostings, live: np.ndarray) -> np.ndarray:
    """Per slot: how many live rows hold it."""
    counts = np.diff(postings.offsets)
    slot_of = np.repeat(np.arange(postings.slot_count), counts)
    return np.bincount(slot_of[live[postings.rows]], minlength=postings.slot_count)


def row_vectors(postings: SegmentPostings, live: np.ndarray, term_ids: np.ndarray,
                averages: dict[str, float]) -> dict[int, dict[int, float]]:
    """Each live row's sparse vector: {vocabulary id: BM25F term-frequency part at `averages`}.

    `term_ids[slot]` is the slot's vocabulary id. Every live row gets one (empty for a paragraph without terms).
    """
    counts = np.diff(postings.offsets)
    slot_of = np.repeat(np.arange(postings.slot_count), counts)
    field_of = slot_fields(postings)[slot_of]
    values = np.zeros(len(postings.codes), dtype=np.float64)
    for f, fieldname in enumerate(FIELDS):
        at = field_of == f
        values[at] = tf_table(postings.weights[fieldname], averages[fieldname])[postings.codes[at]]
    rows = np.asarray(postings.rows, dtype=np.int64)
    keep = live[rows]
    rows, ids, values = rows[keep], term_ids[slot_of[keep]], values[keep]
    order = np.lexsort((ids, rows))
    rows, ids, values = rows[order], ids[order], values[order]
    bounds = np.searchsorted(rows, np.arange(postings.size + 1))
    id_list, value_list = ids.tolist(), values.astype(np.float32).tolist()
    return {row: dict(zip(id_list[bounds[row]:bounds[row + 1]], value_list[bounds[row]:bounds[row + 1]]))
            for row in np.flatnonzero(live).tolist()}
