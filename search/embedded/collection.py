"""BM25F over many segments with the collection's statistics, applied when a query is scored.

Each segment keeps its postings as (row, code) pairs (index/store/postings/). The statistics
are the live collection's, exactly: the document count, each term's document frequency and each
field's average length count only rows that are not deleted (a deleted row's terms are
subtracted: index/store/postings/deleted_stats.py). So after any sequence of writes a query scores as it would in a
fresh build of the same corpus, before any merge as after it.

The score is Whoosh's BM25F (K1 1.2, B 0.75; its idf `log(N / (df + 1)) + 1`), computed the way
Whoosh computes it: `idf * tf_part`, where `tf_part` comes from a per-segment table indexed by the
posting's code (weight index, length byte), rebuilt whenever the average lengths change.

Invariant: every returned score is > 0 and every list is ranked by (-score, id).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Callable, Sequence

import numpy as np

from index.bm25f import average_length, classic_idf, idf, tf_table
from index.store.postings.deleted_stats import DeletedStats
from index.store.postings.segment_postings import FIELDS, SegmentPostings
from search.embedded.accumulators import SHARED, Accumulators
from search.fusion import Ranked, best_of, top_ranked
from search.query_leaves import Leaf

TERM_CACHE = 4096  # (field, term) pairs whose postings a snapshot keeps found
MOSTLY = 0.6  # at least this share of rows matching: ranked in the accumulator itself (below half, far slower)


@dataclass
class Part:
    """One segment as the collection sees it: its postings, where its rows start, its deleted rows."""

    postings: SegmentPostings
    base: int  # global row of the segment's row 0
    deleted: np.ndarray  # segment rows deleted (int64, sorted)
    stats: DeletedStats


@dataclass(frozen=True)
class TermPostings:
    """One term of one field across a snapshot: its live document frequency, and for each segment holding it
    (the segment's base, its size, the term's rows and codes there: views, the segment's tf table of the field)."""

    df: int
    segments: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]


def term_postings(parts: Sequence[Part], tables: Sequence[dict[str, np.ndarray]], fieldname: str,
                  term: str) -> TermPostings:
    """Where `term` is in `fieldname`, segment by segment, and how many live rows hold it."""
    df, segments = 0, []
    for part, table in zip(parts, tables):
        slot = part.postings.slot(fieldname, term)
        if slot is None:
            continue
        start, end = part.postings.offsets[slot], part.postings.offsets[slot + 1]
        df += int(end - start) - int(part.stats.df[slot])
        if end > start:
            segments.append((part.base, part.postings.size, part.postings.rows[start:end],
                             part.postings.codes[start:end], table[fieldname]))
    return TermPostings(df, segments)


class Collection:
    """The BM25 side of one snapshot: its segments' postings under one set of statistics; thread-safe."""

    def __init__(self, parts: Sequence[Part], ids_of: Callable[[np.ndarray], list[str]],
                 accumulators: Accumulators = SHARED) -> None:
        self.parts = list(parts)
        self.ids_of = ids_of  # global rows -> their paragraph ids (for the (-score, id) order)
        self.size = sum(p.postings.size for p in self.parts)
        self.live = self.size - sum(p.stats.rows for p in self.parts)
        self.average = {}
        for fieldname in FIELDS:
            total = sum(p.postings.total_length(fieldname) - p.stats.lengths[fieldname] for p in self.parts)
            self.average[fieldname] = average_length(total, self.live)
        self.tables = [{f: tf_table(p.postings.weights[f], self.average[f]) for f in FIELDS} for p in self.parts]
        self.deleted = np.concatenate([p.base + p.deleted for p in self.parts] or [np.zeros(0, np.int64)])
        # A term's postings in each segment holding it, found once per snapshot (segments and deletions never change
        # within one): a query no longer looks for its terms in every segment, most of them small ones without them.
        self._postings = lru_cache(maxsize=TERM_CACHE)(partial(term_postings, self.parts, self.tables))
        self.accumulators = accumulators  # zeroed, lent to each query (search/embedded/accumulators.py)

    def df(self, fieldname: str, term: str) -> int:
        """Live rows holding `term` in `fieldname`."""
        return self._postings(fieldname, term).df

    def term_weight(self, term: str) -> float:
        """BM25's classic idf of a term over paragraph text, log(1 + (N - df + 0.5) / (df + 0.5)) (adaptive fusion)."""
        return classic_idf(self.live, self.df("text", term))

    def _accumulate(self, acc: np.ndarray, leaves: Sequence[Leaf]) -> None:
        """Add every leaf's BM25 contribution, segment by segment, into `acc` (global rows)."""
        for fieldname, term, boost in leaves:
            found = self._postings(fieldname, term)
            if not found.df:
                continue
            weight = idf(self.live, found.df)
            for base, size, rows, codes, table in found.segments:
                scores = table[codes]  # a fresh array: scaled in place
                scores *= weight  # Whoosh's idf * tf_part, element by element
                if boost != 1.0:
                    scores *= boost
                acc[base:base + size][rows] += scores  # a term's rows are distinct

    def matches(self, leaves: Sequence[Leaf], deepest: int, allowed: np.ndarray | None = None) -> "Matches":
        """The live rows matching the sum of `leaves` (only rows where `allowed`, a global bool mask, is True),
        scored once and kept as deep as `deepest`, to be cut as (paragraph id, score) ranked by (-score, id). A
        row matches when it holds a leaf's term (boosts are > 0)."""
        if deepest <= 0 or not self.live or not leaves:
            return Matches(np.zeros(0, np.int64), np.zeros(0), 0, self.ids_of)
        acc = self.accumulators.take(self.size)
        try:
            self._accumulate(acc, leaves)
            acc[self.deleted] = 0.0
            if allowed is None:
                total = int(np.count_nonzero(acc))
                if total > deepest and total >= MOSTLY * self.size:
                    rows, scores = best_in_place(acc, deepest)
                    acc.fill(0.0)  # invariant: a pooled accumulator is all zeros
                    return Matches(rows, scores, total, self.ids_of)
            touched = np.flatnonzero(acc)
            matched = touched if allowed is None else touched[allowed[touched]]
            values = acc[matched]
            acc[touched] = 0.0
        except BaseException:
            acc.fill(0.0)
            raise
        finally:
            self.accumulators.give_back(acc)
        rows, scores = best_of(values, matched, deepest)
        return Matches(rows, scores, len(matched), self.ids_of)


def best_in_place(acc: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """`best_of` every row of `acc` (a score per row, 0: no match; more than `k` rows match): partitioned as it
    is, with no list of the matching rows made first. Where most rows match (a typical question at 1M matches
    ~94 %), ×0.6 of listing them; where most do not, NumPy's partition of the zeros slows ×15-20 (MOSTLY)."""
    kth = np.partition(acc, len(acc) - k)[len(acc) - k]  # > 0: more than k rows match
    rows = np.flatnonzero(acc >= kth)
    return rows, acc[rows]


@dataclass(frozen=True)
class Matches:
    """One query's matching rows, scored, the best `deepest` of them kept (a search.corpus.Ranking): a cut ranks
    what is kept (a partition and a sort of at most `deepest` rows and their ties), never scoring again."""

    rows: np.ndarray
    scores: np.ndarray  # scores[i] is rows[i]'s
    total: int  # every match, kept or not
    ids_of: Callable[[np.ndarray], list[str]]

    def cut(self, k: int) -> tuple[Ranked, int]:
        """The first `k` by (-score, id) (k no deeper than what was kept), and how many rows match."""
        return (top_ranked(self.scores, self.rows, k, self.ids_of) if k > 0 and len(self.rows) else []), self.total
