"""A segment's postings read back from its Whoosh index (a build, a merge of old segments, an upgrade): Whoosh's
own terms, weights and length bytes, in the segment's rows."""

from __future__ import annotations

import numpy as np
from whoosh.util.numeric import length_to_byte

from index.store.postings.assembly import Assembly, FieldPostings, join_fields
from index.store.postings.segment_postings import FIELDS, MAX_DOCS, SegmentPostings, TooManyDocuments


def _length_bytes(leaf, fieldname: str, docs: int) -> np.ndarray:
    """Whoosh's stored length byte of `fieldname` for each document of one Whoosh segment (0: none)."""
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

    perdoc = getattr(leaf, "_perdoc", None)
    column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN) if perdoc is not None else None
    out = np.zeros(docs, dtype=np.uint8)
    if column is not None and getattr(column, "_fixedlen", None) == 1:  # W3: one byte per document, in a row
        count = min(column._count, docs)
        out[:count] = np.frombuffer(column._dbfile.get(column._basepos, count), dtype=np.uint8)
        return out
    for doc in range(docs):  # another codec: ask document by document
        length = leaf.doc_field_length(doc, fieldname, 0) or 0
        out[doc] = length_to_byte(length) if length else 0
    return out


def _term_postings(matcher) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and weights of one term in one Whoosh segment, block by block where the codec allows."""
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    if hasattr(matcher, "_read_ids") and hasattr(matcher, "_next_block"):  # Whoosh 2.7's W3 codec
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.append(np.asarray(matcher._ids, dtype=np.int64))
            weights.append(np.asarray(matcher._weights, dtype=np.float64))
            matcher._next_block()
        if ids:
            return np.concatenate(ids), np.concatenate(weights)
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    pairs = []
    while matcher.is_active():
        pairs.append((matcher.id(), matcher.weight()))
        matcher.next()
    array = np.array(pairs, dtype=np.float64).reshape(-1, 2)
    return array[:, 0].astype(np.int64), array[:, 1]


def whoosh_rows(ix, row_of: dict[str, int]) -> list[np.ndarray]:
    """For each Whoosh segment of `ix` (in `leaf_readers` order), its document number -> our row (-1: not ours).

    Whoosh's own deleted documents (an index updated in place by an older zhsearch) map to -1.
    """
    maps = []
    with ix.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            rows = np.full(leaf.doc_count_all(), -1, dtype=np.int32)
            for doc, stored in leaf.iter_docs():
                rows[doc] = row_of.get(stored["paragraph_id"], -1)
            maps.append(rows)
    return maps


def _read_leaf_field(leaf, fieldname: str, rows_of_doc: np.ndarray, boost: float) -> FieldPostings:
    """Every posting of `fieldname` in one Whoosh segment, mapped to rows (documents that are not ours dropped)."""
    out = FieldPostings()
    length_bytes = _length_bytes(leaf, fieldname, len(rows_of_doc))
    for term in leaf.field_terms(fieldname):
        docs, weights = _term_postings(leaf.postings(fieldname, term))
        rows = rows_of_doc[docs]
        keep = rows >= 0
        count = int(keep.sum())
        if not count:  # only documents that are not ours (deleted in Whoosh itself)
            continue
        out.terms.append(term)
        out.counts.append(count)
        out.rows += rows[keep].astype(np.int32).tobytes()
        out.freqs += np.rint(weights[keep] / boost).astype(np.uint32).tobytes()  # Whoosh: weight = freq * boost
        out.lengths += length_bytes[docs[keep]].tobytes()
    return out


def read_postings(ix, row_of: dict[str, int], boosts: dict[str, float]) -> SegmentPostings:
    """Every posting of FIELDS in Whoosh index `ix`, in segment rows (`row_of`: paragraph id -> row).

    `boosts` are the fields' index-time boosts: Whoosh's posting weight is the term frequency times
    the boost, so the frequency (hence each row's exact length) comes back from the weight. Memory:
    about 9 bytes a posting while reading, up to twice that while a field's segments are joined.
    """
    size = len(row_of)
    if size > MAX_DOCS:
        raise TooManyDocuments(f"a segment of {size} paragraphs: at most {MAX_DOCS} fit int32 rows; "
                               "index the corpus as several segments")
    maps = whoosh_rows(ix, row_of)
    out = Assembly(size)
    with ix.reader() as reader:
        leaves = [leaf for leaf, _ in reader.leaf_readers()]
        for f, fieldname in enumerate(FIELDS):
            boost = boosts.get(fieldname, 1.0)
            parts = [_read_leaf_field(leaf, fieldname, rows_of_doc, boost) for leaf, rows_of_doc in zip(leaves, maps)]
            terms, counts, rows, freqs, length_bytes = join_fields(parts)
            del parts
            out.add(fieldname, terms, counts, rows, freqs, length_bytes, boost)
            out.lengths[:, f] = np.bincount(rows, weights=freqs, minlength=size).astype(np.int64)
    return out.done()
