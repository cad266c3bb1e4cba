"""A segment's BM25 postings, kept as numpy files beside its Whoosh index: read back from it once (a build, a
merge, an upgrade) or computed from the text through the same analyzer (a write's small segment).

For every (field, term): the segment rows holding it and, per posting, a code for what BM25
needs of it besides collection statistics: its term weight (Whoosh's boosted term frequency) and
its field length (Whoosh's byte-quantised one), `code = weight_index * 256 + length_byte`. The
collection statistics (document count, document frequencies, average field lengths) are applied
when a query is scored (search/embedded/collection.py), so a segment's files never change once written.

Invariants: rows are the segment's paragraph rows (its vector rows), not Whoosh document
numbers; a posting's term and length are exactly Whoosh's, so the BM25F score rebuilt from the
code equals Whoosh's own; `lengths[row, f]` is the exact token count of field f (Whoosh's
totals are sums of these).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from whoosh.util.numeric import byte_to_length

FIELDS = ("title", "text")  # the BM25F fields: a paragraph's article title and its own text
POSTINGS_DIR = "bm25"
LENGTH_CODES = 256  # Whoosh stores a field length as one byte
MAX_DOCS = int(np.iinfo(np.int32).max) + 1  # rows are int32
# byte -> the field length Whoosh scores with (its `doc_field_length`)
QUANTISED_LENGTHS = np.array([byte_to_length(b) for b in range(LENGTH_CODES)], dtype=np.float64)


class TooManyDocuments(ValueError):
    """A segment with more rows than int32 row numbers can hold."""


@dataclass
class SegmentPostings:
    """Postings of one segment; the arrays may be memory maps (read-only)."""

    slots: dict[str, dict[str, int]]  # field -> term -> slot; a slot's postings are [offsets[s], offsets[s + 1])
    offsets: np.ndarray  # int64, slots + 1
    rows: np.ndarray  # int32 segment rows (a slot's rows are distinct, in no particular order)
    codes: np.ndarray  # uint16 or uint32: weight index * 256 + length byte
    weights: dict[str, np.ndarray]  # field -> the distinct posting weights (float64), by weight index
    lengths: np.ndarray  # int32 (rows, len(FIELDS)): exact token count of each field

    totals: dict[str, int] = field(default_factory=dict)  # per field: the sum of `lengths` (computed once)

    def __post_init__(self) -> None:
        self.totals = {f: int(self.lengths[:, i].sum(dtype=np.int64)) for i, f in enumerate(FIELDS)}

    @property
    def size(self) -> int:
        """Rows of the segment (deleted ones included)."""
        return len(self.lengths)

    @property
    def slot_count(self) -> int:
        return len(self.offsets) - 1

    def slot(self, fieldname: str, term: str) -> int | None:
        return self.slots.get(fieldname, {}).get(term)

    def postings(self, fieldname: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, codes) of one term (empty when the segment lacks it)."""
        slot = self.slots.get(fieldname, {}).get(term)
        if slot is None:
            return self.rows[:0], self.codes[:0]
        start, end = self.offsets[slot], self.offsets[slot + 1]
        return self.rows[start:end], self.codes[start:end]

    def df(self, fieldname: str, term: str) -> int:
        """Rows holding `term` in `fieldname` (deleted ones included)."""
        slot = self.slots.get(fieldname, {}).get(term)
        return 0 if slot is None else int(self.offsets[slot + 1] - self.offsets[slot])

    def total_length(self, fieldname: str) -> int:
        """Sum of the exact lengths of `fieldname` over every row (Whoosh's `field_length`)."""
        return self.totals[fieldname]

    def save(self, folder: Path) -> None:
        """Write the postings into `folder/bm25/` (not fsynced: the segment is, whole, before it is listed)."""
        out = folder / POSTINGS_DIR
        out.mkdir(exist_ok=True)  # (not parents: a segment folder removed meanwhile must not come back empty)
        terms = {f: sorted(slots, key=slots.__getitem__) for f, slots in self.slots.items()}
        meta = {"fields": list(FIELDS), "terms": terms,
                "weights": {f: w.tolist() for f, w in self.weights.items()}}
        (out / "terms.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        for name, array in (("offsets", self.offsets), ("rows", self.rows), ("codes", self.codes),
                            ("lengths", self.lengths)):
            np.save(out / f"{name}.npy", np.ascontiguousarray(array))

    @classmethod
    def open(cls, folder: Path) -> "SegmentPostings":
        """Read postings written by `save` (the arrays memory-mapped: pages are shared and loaded on use)."""
        src = folder / POSTINGS_DIR
        meta = json.loads((src / "terms.json").read_text(encoding="utf-8"))
        slots: dict[str, dict[str, int]] = {}
        for fieldname, terms in meta["terms"].items():
            start = sum(len(s) for s in slots.values())
            slots[fieldname] = {term: start + i for i, term in enumerate(terms)}
        # Plain ndarray views of the maps (np.memmap's own subclass adds overhead to every slice and gather).
        arrays = {name: np.asarray(np.load(src / f"{name}.npy", mmap_mode="r"))
                  for name in ("offsets", "rows", "codes", "lengths")}
        weights = {f: np.asarray(w, dtype=np.float64) for f, w in meta["weights"].items()}
        return cls(slots, np.asarray(arrays["offsets"]), arrays["rows"], arrays["codes"], weights,
                   arrays["lengths"])


def exists(folder: Path) -> bool:
    """True when `folder` holds saved postings."""
    return (folder / POSTINGS_DIR / "terms.json").is_file()
