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


@dataclass
class _Postings:
    """Postings of many terms, gathered before the scores are computed."""

    slots: dict[str, dict[str, int]] = field(default_factory=dict)
    docs: list[np.ndarray] = field(default_factory=list)
    weights: list[np.ndarray] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)

    def add(self, fieldname: str, term: str, docs: np.ndarray, weights: np.ndarray) -> None:
        slot = self.slots.setdefault(fieldname, {}).get(term)
        if slot is None:
            self.slots[fieldname][term] = len(self.docs)
            self.docs.append(docs)
            self.weights.append(weights)
            self.fields.append(fieldname)
            self.terms.append(term)
        else:  # the same term in a later segment
            self.docs[slot] = np.concatenate([self.docs[slot], docs])
            self.weights[slot] = np.concatenate([self.weights[slot], weights])


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
            live = np.zeros(n, dtype=bool)
            live[list(reader.all_doc_ids())] = True
            ids = np.full(n, "", dtype=object)
            for docnum, stored in zip(reader.all_doc_ids(), reader.all_stored_fields()):
                ids[docnum] = stored["paragraph_id"]
            gathered = _Postings()
            for leaf, base in reader.leaf_readers():
                for fieldname in fields:
                    for term in leaf.field_terms(fieldname):
                        docs, weights = _leaf_postings(leaf.postings(fieldname, term))
                        gathered.add(fieldname, term, docs + base, weights)
            return cls._scored(searcher, weighting, gathered, ids, live)

    @classmethod
    def _scored(cls, searcher, weighting: BM25F, gathered: _Postings, ids: np.ndarray, live: np.ndarray) -> "Impacts":
        """BM25F of every gathered posting, deleted documents dropped, as one flat array."""
        counts = np.array([len(d) for d in gathered.docs], dtype=np.int64)
        docs = np.concatenate(gathered.docs) if gathered.docs else np.zeros(0, np.int64)
        weights = np.concatenate(gathered.weights) if gathered.weights else np.zeros(0)
        idf = np.repeat([searcher.idf(f, t) for f, t in zip(gathered.fields, gathered.terms)], counts)
        scores = np.zeros(len(docs), dtype=np.float64)
        names = list(dict.fromkeys(gathered.fields))
        slot_field = np.repeat(np.array([names.index(f) for f in gathered.fields], dtype=np.int16), counts)
        for number, fieldname in enumerate(names):
            rows = slot_field == number
            lengths = np.array([searcher.reader().doc_field_length(d, fieldname, 1) for d in range(len(ids))], dtype=np.float64)
            avg = searcher.avg_field_length(fieldname) or 1
            b = weighting._field_B.get(fieldname, weighting.B)
            tf, fl = weights[rows], lengths[docs[rows]]
            scores[rows] = idf[rows] * (tf * (weighting.K1 + 1)) / (tf + weighting.K1 * ((1 - b) + b * fl / avg))
        keep = live[docs]
        slot_of = np.repeat(np.arange(len(counts)), counts)[keep]
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(np.bincount(slot_of, minlength=len(counts)), out=offsets[1:])
        return cls(ids, gathered.slots, offsets, docs[keep].astype(np.int32), scores[keep])

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
