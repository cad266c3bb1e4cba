"""A segment's postings put together: one source's of a field read flat, the sources' joined, and the
fields assembled into SegmentPostings, laid out alike whatever they come from."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from index.store.postings.segment_postings import FIELDS, LENGTH_CODES, SegmentPostings


@dataclass
class FieldPostings:
    """One source's postings of one field (a Whoosh segment's, or a merged segment's source), read flat: its
    terms in order, how many postings each has, and per posting its row (int32), term frequency (uint32) and
    length byte (uint8), as raw bytes.

    Flat byte buffers, not an array per term: at 1M paragraphs (88M postings, ~1.5M terms) a few
    numpy arrays per term cost more in object headers than the postings themselves.
    """

    terms: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    rows: bytearray = field(default_factory=bytearray)
    freqs: bytearray = field(default_factory=bytearray)
    lengths: bytearray = field(default_factory=bytearray)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (np.frombuffer(self.rows, dtype=np.int32), np.frombuffer(self.freqs, dtype=np.uint32),
                np.frombuffer(self.lengths, dtype=np.uint8))


def join_fields(parts: list[FieldPostings]) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One field's postings of every source: (terms sorted, postings per term, rows, freqs, length
    bytes), a term's postings from all segments together (in no particular row order)."""
    if len(parts) == 1 and parts[0].terms == sorted(parts[0].terms):
        rows, freqs, lengths = parts[0].arrays()
        return parts[0].terms, np.asarray(parts[0].counts, dtype=np.int64), rows, freqs, lengths
    where = []
    for part in parts:
        starts = np.concatenate([[0], np.cumsum(part.counts, dtype=np.int64)])
        where.append({term: (int(starts[i]), int(starts[i + 1])) for i, term in enumerate(part.terms)})
    terms = sorted(set().union(*(part.terms for part in parts)))
    total = sum(sum(part.counts) for part in parts)
    rows, freqs, lengths = np.empty(total, np.int32), np.empty(total, np.uint32), np.empty(total, np.uint8)
    counts = np.zeros(len(terms), dtype=np.int64)
    sources = [part.arrays() for part in parts]
    at = 0
    for t, term in enumerate(terms):
        for found, (part_rows, part_freqs, part_lengths) in zip(where, sources):
            span = found.get(term)
            if span is None:
                continue
            n = span[1] - span[0]
            rows[at:at + n] = part_rows[span[0]:span[1]]
            freqs[at:at + n] = part_freqs[span[0]:span[1]]
            lengths[at:at + n] = part_lengths[span[0]:span[1]]
            at += n
            counts[t] += n
    return terms, counts, rows, freqs, lengths


class Assembly:
    """A segment's postings put together field by field (FIELDS order): its slots, offsets, rows and codes.

    Every way of getting postings (read back from Whoosh, computed from the text, joined from a merge's
    sources in merge.py) ends here, so that they lay slots, weights and codes out alike
    by construction.
    """

    def __init__(self, size: int) -> None:
        self.slots: dict[str, dict[str, int]] = {}
        self.weights: dict[str, np.ndarray] = {}
        self.offsets, self.rows, self.codes = [np.zeros(1, np.int64)], [], []
        self.lengths = np.zeros((size, len(FIELDS)), np.int32)
        self.total = 0  # postings of the fields added so far: where the next field's first term starts

    def add(self, fieldname: str, terms: list[str], counts: np.ndarray, rows: np.ndarray, freqs: np.ndarray,
            length_bytes: np.ndarray, boost: float) -> None:
        """One field: `terms` sorted, `counts[i]` postings of terms[i], then per posting its row, frequency
        and length byte (a term's postings together)."""
        first = sum(len(s) for s in self.slots.values())
        self.slots[fieldname] = {term: first + i for i, term in enumerate(terms)}
        distinct = np.unique(freqs)
        self.weights[fieldname] = distinct.astype(np.float64) * boost
        codes = np.searchsorted(distinct, freqs).astype(np.uint32)  # the weight's index, then the code in place
        codes *= LENGTH_CODES
        codes += length_bytes
        self.codes.append(codes)
        self.rows.append(rows.astype(np.int32, copy=False))
        self.offsets.append(self.total + np.cumsum(counts, dtype=np.int64))
        self.total += len(rows)

    def done(self) -> SegmentPostings:
        wide = any(len(w) > (np.iinfo(np.uint16).max + 1) // LENGTH_CODES for w in self.weights.values())
        codes = np.concatenate(self.codes).astype(np.uint32 if wide else np.uint16)
        self.codes.clear()
        rows = np.concatenate(self.rows)
        self.rows.clear()
        return SegmentPostings(self.slots, np.concatenate(self.offsets), rows, codes, self.weights, self.lengths)
