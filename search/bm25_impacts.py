"""Whoosh's BM25F score of every (field, term, paragraph), read once, so that an OR of terms is a sum of slices.

Whoosh scores a query by walking posting lists in pure Python (its OR matcher and posting
decoding are most of a BM25 query's time). For one term in one document Whoosh's BM25F
score depends only on statistics fixed for an open index, so this computes them all once,
with Whoosh's own statistics: its IDF, its average field length, its byte-quantised field
lengths and its boosted posting weights. Scoring a flat OR query is then numpy work.

Invariant: for an OR of terms (each with a boost), `Impacts.top` gives the documents and
scores Whoosh's BM25F gives (float64, summed in another order: equal to ~1e-15, so exact
ties may break differently), ranked by (-score, id) like every ranking in the project.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
from whoosh.scoring import BM25F

from search.fusion import Ranked, ordered

Leaf = tuple[str, str, float]  # (field, term, boost): one clause of a flat OR query
MAX_DOCS = int(np.iinfo(np.int32).max) + 1  # document numbers 0 .. MAX_DOCS - 1 fit the int32 they are held in


class TooManyDocuments(ValueError):
    """The index has more document numbers than the impacts' int32 can hold."""


@dataclass(frozen=True)
class _FieldStats:
    """What BM25F needs of one field besides a posting's weight: its length per document, average, b."""

    lengths: np.ndarray  # document number -> Whoosh's byte-quantised length of the field
    average: float
    b: float

    def scores(self, idf: float, weights: np.ndarray, docs: np.ndarray, k1: float) -> np.ndarray:
        """Whoosh's BM25F of one term's postings (`weights` its boosted term frequencies in `docs`)."""
        return idf * (weights * (k1 + 1)) / (weights + k1 * ((1 - self.b) + self.b * self.lengths[docs] / self.average))


@dataclass
class _Scored:
    """Scored postings of many terms, kept per term and segment until they are flattened.

    Each term is scored as it is read: nothing but its document numbers (int32) and scores
    (float64) is held per posting. Reading the 1M-paragraph bench index (88M postings, 1.05 GB of
    impacts) peaks at 5.6 GB RSS, the Whoosh searcher's 2.9 GB included; gathering every
    posting's weight, IDF and field before scoring them in bulk peaked at 10.8 GB.
    """

    slots: dict[str, dict[str, int]] = field(default_factory=dict)
    chunks: list[list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=list)
    total: int = 0

    def add(self, fieldname: str, term: str, docs: np.ndarray, scores: np.ndarray) -> None:
        slot = self.slots.setdefault(fieldname, {}).setdefault(term, len(self.chunks))
        if slot == len(self.chunks):  # a new term; the same term in a later segment joins its slot
            self.chunks.append([])
        self.chunks[slot].append((docs, scores))
        self.total += len(docs)

    def flatten(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(offsets, docs, scores): slot s's postings are docs/scores[offsets[s]:offsets[s + 1]]."""
        offsets = np.zeros(len(self.chunks) + 1, dtype=np.int64)
        docs = np.empty(self.total, dtype=np.int32)
        scores = np.empty(self.total, dtype=np.float64)
        at = 0
        for slot, parts in enumerate(self.chunks):
            for part_docs, part_scores in parts:
                docs[at:at + len(part_docs)] = part_docs
                scores[at:at + len(part_docs)] = part_scores
                at += len(part_docs)
            offsets[slot + 1] = at
            self.chunks[slot] = []  # freed once copied
        return offsets, docs, scores


def _leaf_postings(matcher) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and weights of one term in one segment, block by block where the codec allows."""
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


def _field_stats(searcher, weighting: BM25F, fieldname: str, n: int) -> _FieldStats:
    """Field lengths of all `n` documents (1 where Whoosh has none), the average length and b of `fieldname`."""
    reader = searcher.reader()
    lengths = np.array([reader.doc_field_length(d, fieldname, 1) for d in range(n)], dtype=np.float64)
    return _FieldStats(lengths, searcher.avg_field_length(fieldname) or 1, weighting._field_B.get(fieldname, weighting.B))


class Impacts:
    """Precomputed BM25F scores of one open Whoosh index; safe to share across threads."""

    def __init__(self, ids: np.ndarray, slots: dict[str, dict[str, int]], offsets: np.ndarray,
                 docs: np.ndarray, scores: np.ndarray) -> None:
        self.ids = ids  # document number -> paragraph id ("" for a deleted document)
        self.slots = slots  # field -> term -> slot; a slot's postings are docs/scores[offsets[s]:offsets[s+1]]
        self.offsets = offsets
        self.docs = docs
        self.scores = scores
        self._spare: list[np.ndarray] = []  # zeroed accumulators not in use; as many as queries ever ran at once
        self._spare_lock = threading.Lock()

    @classmethod
    def from_index(cls, ix, fields: list[str], weighting: BM25F) -> "Impacts":
        """Read every posting of `fields` from Whoosh index `ix` and score it as `weighting` would."""
        with ix.searcher(weighting=weighting) as searcher:
            reader = searcher.reader()
            n = reader.doc_count_all()
            if n > MAX_DOCS:
                raise TooManyDocuments(f"{n} Whoosh documents: impacts hold at most {MAX_DOCS} (int32 document "
                                       "numbers); Whoosh scores every query, slower: split the corpus into "
                                       "several indexes to keep the fast path")
            live = np.zeros(n, dtype=bool)
            live[list(reader.all_doc_ids())] = True
            ids = np.full(n, "", dtype=object)
            for docnum, stored in zip(reader.all_doc_ids(), reader.all_stored_fields()):
                ids[docnum] = stored["paragraph_id"]
            stats = {f: _field_stats(searcher, weighting, f, n) for f in fields}
            scored = _Scored()
            for leaf, base in reader.leaf_readers():
                for fieldname in fields:
                    for term in leaf.field_terms(fieldname):
                        docs, weights = _leaf_postings(leaf.postings(fieldname, term))
                        docs += base
                        keep = live[docs]
                        if not keep.all():  # deleted documents keep their postings until a merge
                            docs, weights = docs[keep], weights[keep]
                        scores = stats[fieldname].scores(searcher.idf(fieldname, term), weights, docs, weighting.K1)
                        scored.add(fieldname, term, docs.astype(np.int32), scores)
            offsets, docs, scores = scored.flatten()
            return cls(ids, scored.slots, offsets, docs, scores)

    def __len__(self) -> int:
        return len(self.docs)

    def postings(self, fieldname: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers and scores of one term (empty when the index lacks it)."""
        slot = self.slots.get(fieldname, {}).get(term)
        if slot is None:
            return self.docs[:0], self.scores[:0]
        start, end = self.offsets[slot], self.offsets[slot + 1]
        return self.docs[start:end], self.scores[start:end]

    def _take_accumulator(self) -> np.ndarray:
        """A zeroed score per document, reused across queries: a query allocates only what it touches."""
        with self._spare_lock:
            if self._spare:
                return self._spare.pop()
        return np.zeros(len(self.ids), dtype=np.float64)

    def _give_back(self, acc: np.ndarray) -> None:
        with self._spare_lock:
            self._spare.append(acc)

    def top(self, leaves: list[Leaf], k: int, count: bool = True) -> tuple[Ranked, int]:
        """The `k` best documents for the OR of `leaves`, and how many match (len of the ranking if not `count`)."""
        parts = [(docs, scores, boost) for f, t, boost in leaves
                 for docs, scores in [self.postings(f, t)] if len(docs)]
        if not parts or k <= 0:
            return [], 0
        acc = self._take_accumulator()
        try:
            for docs, scores, boost in parts:  # a term's documents are distinct: += is safe
                acc[docs] += scores if boost == 1.0 else scores * boost
            # Every impact is > 0 and boosts are > 0 (flat_leaves), so the matching documents are
            # exactly the nonzero entries: one pass over the array, no sort of the postings.
            matched = np.flatnonzero(acc)
            values = acc[matched]
            acc[matched] = 0.0  # invariant: a spare accumulator is all zeros
        except BaseException:
            acc.fill(0.0)
            raise
        finally:
            self._give_back(acc)
        found = len(matched)
        if found > k:  # the k-th best score; every document tied with it stays for the id tie-break
            kth = np.partition(values, len(values) - k)[len(values) - k]
            keep = values >= kth
            matched, values = matched[keep], values[keep]
        ranked = ordered((self.ids[d], float(v)) for d, v in zip(matched, values))[:k]
        return ranked, found if count else len(ranked)
