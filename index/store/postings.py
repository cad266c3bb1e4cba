"""A segment's BM25 postings, read once from its Whoosh index and kept as numpy files beside it.

For every (field, term): the segment rows holding it and, per posting, a code for what BM25
needs of it besides collection statistics: its term weight (Whoosh's boosted term frequency) and
its field length (Whoosh's byte-quantised one), `code = weight_index * 256 + length_byte`. The
collection statistics (document count, document frequencies, average field lengths) are applied
when a query is scored (search/collection.py), so a segment's files never change once written.

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
from whoosh.util.numeric import byte_to_length, length_to_byte

from index.store.durable import fsync_file

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
    rows: np.ndarray  # int32 segment rows, ascending within a slot
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
        """Write the postings into `folder/bm25/`, each file fsynced."""
        out = folder / POSTINGS_DIR
        out.mkdir(exist_ok=True)  # (not parents: a segment folder removed meanwhile must not come back empty)
        terms = {f: sorted(slots, key=slots.__getitem__) for f, slots in self.slots.items()}
        meta = {"fields": list(FIELDS), "terms": terms,
                "weights": {f: w.tolist() for f, w in self.weights.items()}}
        (out / "terms.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        for name, array in (("offsets", self.offsets), ("rows", self.rows), ("codes", self.codes),
                            ("lengths", self.lengths)):
            np.save(out / f"{name}.npy", np.ascontiguousarray(array))
        for path in out.iterdir():
            fsync_file(path)

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


def read_postings(ix, row_of: dict[str, int], boosts: dict[str, float]) -> SegmentPostings:
    """Every posting of FIELDS in Whoosh index `ix`, in segment rows (`row_of`: paragraph id -> row).

    `boosts` are the fields' index-time boosts (Whoosh multiplies term frequencies by them), used
    to recover exact lengths from the weights.
    """
    size = len(row_of)
    if size > MAX_DOCS:
        raise TooManyDocuments(f"a segment of {size} paragraphs: at most {MAX_DOCS} fit int32 rows; "
                               "index the corpus as several segments")
    maps = whoosh_rows(ix, row_of)
    parts: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    with ix.reader() as reader:
        for (leaf, _), rows_of_doc in zip(reader.leaf_readers(), maps):
            for fieldname in FIELDS:
                length_bytes = _length_bytes(leaf, fieldname, len(rows_of_doc))
                for term in leaf.field_terms(fieldname):
                    docs, weights = _term_postings(leaf.postings(fieldname, term))
                    rows = rows_of_doc[docs]
                    keep = rows >= 0
                    rows, weights, dl = rows[keep], weights[keep], length_bytes[docs[keep]]
                    if not len(rows):  # only documents that are not ours (deleted in Whoosh itself)
                        continue
                    parts.setdefault((fieldname, term), []).append((rows, weights, dl))
    return _flatten(parts, size, boosts)


def _flatten(parts: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray, np.ndarray]]], size: int,
             boosts: dict[str, float]) -> SegmentPostings:
    """Slots in FIELDS order, terms sorted within a field; each slot's rows ascending; exact lengths
    summed from the term frequencies (weight / field boost)."""
    slots: dict[str, dict[str, int]] = {f: {} for f in FIELDS}
    keys = sorted(parts, key=lambda key: (FIELDS.index(key[0]), key[1]))
    weights_of = {f: np.unique(np.concatenate([w for key in keys if key[0] == f for _, w, _ in parts[key]]
                                              or [np.zeros(0)])) for f in FIELDS}
    wide = any(len(w) > (np.iinfo(np.uint16).max + 1) // LENGTH_CODES for w in weights_of.values())
    total = sum(len(r) for chunks in parts.values() for r, _, _ in chunks)
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    rows_out = np.empty(total, dtype=np.int32)
    codes_out = np.empty(total, dtype=np.uint32 if wide else np.uint16)
    at = 0
    for slot, key in enumerate(keys):
        fieldname, term = key
        slots[fieldname][term] = slot
        chunks = parts.pop(key)
        rows = np.concatenate([r for r, _, _ in chunks])
        weight_index = np.searchsorted(weights_of[fieldname], np.concatenate([w for _, w, _ in chunks]))
        dl = np.concatenate([d for _, _, d in chunks]).astype(np.int64)
        order = np.argsort(rows, kind="stable")
        rows_out[at:at + len(rows)] = rows[order]
        codes_out[at:at + len(rows)] = (weight_index * LENGTH_CODES + dl)[order]
        at += len(rows)
        offsets[slot + 1] = at
    lengths = np.zeros((size, len(FIELDS)), np.int32)
    for f, fieldname in enumerate(FIELDS):
        start = offsets[min(slots[fieldname].values())] if slots[fieldname] else 0
        end = offsets[max(slots[fieldname].values()) + 1] if slots[fieldname] else 0
        codes = codes_out[start:end].astype(np.int64)
        freqs = np.rint(weights_of[fieldname][codes // LENGTH_CODES] / boosts.get(fieldname, 1.0))
        lengths[:, f] = np.rint(np.bincount(rows_out[start:end], weights=freqs, minlength=size))
    return SegmentPostings(slots, offsets, rows_out, codes_out, weights_of, lengths)


def field_boosts(schema) -> dict[str, float]:
    """The index-time boost of each BM25F field of a Whoosh schema."""
    return {f: float(getattr(schema[f].format, "field_boost", 1.0)) for f in FIELDS}


def document_terms(schema, values: dict[str, str]) -> dict[str, tuple[set[str], int]]:
    """For each field of one document, its distinct terms and exact length, as Whoosh indexed them.

    Uses the schema's own analyzer and format (what Whoosh's writer calls), so the terms are
    exactly those in the postings.
    """
    out = {}
    for fieldname in FIELDS:
        terms, length = set(), 0
        for term_bytes, freq, _weight, _value in schema[fieldname].index(values.get(fieldname, "")):
            terms.add(term_bytes.decode("utf-8") if isinstance(term_bytes, bytes) else term_bytes)
            length += freq
        out[fieldname] = (terms, length)
    return out
