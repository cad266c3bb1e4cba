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
from whoosh.util.numeric import byte_to_length, length_to_byte

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
    sources in index/store/postings_merge.py) ends here, so that they lay slots, weights and codes out alike
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
