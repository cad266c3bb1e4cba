"""A segment's postings computed from the text through the schema's own analyzer, without a Whoosh index to
read back: what a write's small segment uses, equal to reading the same documents back from Whoosh."""

from __future__ import annotations

import numpy as np
from whoosh.util.numeric import length_to_byte

from index.store.postings.assembly import Assembly
from index.store.postings.segment_postings import FIELDS, SegmentPostings


def field_boosts(schema) -> dict[str, float]:
    """The index-time boost of each BM25F field of a Whoosh schema."""
    return {f: float(getattr(schema[f].format, "field_boost", 1.0)) for f in FIELDS}


def field_terms(schema, fieldname: str, value: str) -> list[tuple[str, int]]:
    """(term, frequency) of one field value, as Whoosh's writer indexes it (the schema's own analyzer and format)."""
    return [(term.decode("utf-8") if isinstance(term, bytes) else term, freq)
            for term, freq, _weight, _value in schema[fieldname].index(value)]


def document_terms(schema, values: dict[str, str]) -> dict[str, tuple[set[str], int]]:
    """For each field of one document, its distinct terms and exact length, as Whoosh indexed them."""
    out = {}
    for fieldname in FIELDS:
        pairs = field_terms(schema, fieldname, values.get(fieldname, ""))
        out[fieldname] = ({term for term, _ in pairs}, sum(freq for _, freq in pairs))
    return out


def postings_of_text(schema, values: list[dict[str, str]], boosts: dict[str, float]) -> SegmentPostings:
    """The postings of documents `values` (row i: values[i], each {"title", "text"}), computed from their text
    exactly as Whoosh indexes it, without reading a Whoosh index back: what a write's small segment uses.

    Equal to `read_postings` of the same documents in Whoosh (tested): the same terms and frequencies
    (the schema's own analyzer), and Whoosh's length byte of each field's exact length.
    """
    out = Assembly(len(values))
    for f, fieldname in enumerate(FIELDS):
        per_term: dict[str, list[tuple[int, int, int]]] = {}
        for row, document in enumerate(values):
            pairs = field_terms(schema, fieldname, document.get(fieldname, ""))
            length = sum(freq for _, freq in pairs)
            out.lengths[row, f] = length
            for term, freq in pairs:
                per_term.setdefault(term, []).append((row, freq, length_to_byte(length)))
        terms = sorted(per_term)
        flat = np.array([posting for term in terms for posting in per_term[term]], dtype=np.int64).reshape(-1, 3)
        out.add(fieldname, terms, np.array([len(per_term[t]) for t in terms], dtype=np.int64),
                flat[:, 0].astype(np.int32), flat[:, 1].astype(np.uint32), flat[:, 2].astype(np.uint32),
                boosts.get(fieldname, 1.0))
    return out.done()
