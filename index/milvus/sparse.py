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
from index.store.postings.segment_postings import FIELDS, SegmentPostings


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


class RowVectors:
    """Each live row's sparse vector, {vocabulary id: BM25F term-frequency part at `averages`}, made when asked.

    The postings are sorted by row once (about 20 bytes a posting); a row's dict is built on demand, so a
    segment of a million paragraphs never holds its vectors as Python objects all at once. `term_ids[slot]` is
    the slot's vocabulary id; a row without terms gets {}.
    """

    def __init__(self, postings: SegmentPostings, live: np.ndarray, term_ids: np.ndarray,
                 averages: dict[str, float]) -> None:
        counts = np.diff(postings.offsets)
        slot_of = np.repeat(np.arange(postings.slot_count), counts)
        field_of = slot_fields(postings)[slot_of]
        values = np.zeros(len(postings.codes), dtype=np.float32)
        for f, fieldname in enumerate(FIELDS):
            at = field_of == f
            values[at] = tf_table(postings.weights[fieldname], averages[fieldname])[postings.codes[at]]
        del field_of
        rows = np.asarray(postings.rows, dtype=np.int64)
        keep = live[rows]
        rows, ids, values = rows[keep], term_ids[slot_of[keep]], values[keep]
        order = np.lexsort((ids, rows))
        self.ids, self.values = ids[order], values[order]
        self.bounds = np.searchsorted(rows[order], np.arange(postings.size + 1))

    def __getitem__(self, row: int) -> dict[int, float]:
        start, end = int(self.bounds[row]), int(self.bounds[row + 1])
        return dict(zip(self.ids[start:end].tolist(), self.values[start:end].tolist()))


def row_vectors(postings: SegmentPostings, live: np.ndarray, term_ids: np.ndarray,
                averages: dict[str, float]) -> RowVectors:
    """Each live row's sparse vector (RowVectors: indexed by row)."""
    return RowVectors(postings, live, term_ids, averages)
