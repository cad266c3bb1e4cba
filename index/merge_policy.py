"""Which segments to merge: tiered by size, as Lucene's TieredMergePolicy, with deletions reclaimed.

Segments are grouped into tiers by their live rows: tier 0 holds those under `floor * per_tier`
rows (a segment under `floor` counts as `floor`, so many tiny ones are one tier), tier t those
under `floor * per_tier ** (t + 1)`. When a tier holds `per_tier` segments, its `per_tier`
smallest merge into one, which lands in a tier above. So an index of n rows keeps at most
about `per_tier - 1` segments per tier, log_per_tier(n / floor) tiers, and every row is
rewritten once per tier it climbs: a write costs O(log n) amortised, never a copy of the index.
A segment whose deleted share passes `max_deleted` is rewritten (alone, or with its tier's
merge) to drop them. Once the fresh segments hold `fold_share` of the largest IVF segment's rows, they
are folded into it (`fold`): tiers bound their number, not what searching them costs. No merge builds
a segment over `max_rows` live rows (it bounds a merge's memory).

Pure functions over SegmentInfo: no I/O, so the policy is tested on numbers alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from index.manifest import SegmentInfo


@dataclass(frozen=True)
class MergePolicy:
    # Rows a small segment counts as: about a few writes' segments (an article is ~3 rows). With 1,000,
    # tier 0 (under 8,000 rows) kept re-merging one growing segment with each few new ones: a merge's
    # cost grows with its rows (0.35 s of CPU at 24 rows, 3.0 s at 921), so after an hour of one
    # write a second merges needed ~1 s of CPU per write; with 10 and 4 a tier, ~0.15 s at any
    # length of feed, for ~10 segments instead of ~5 (bench/writes/merge_policy_sim.py).
    floor: int = 10
    per_tier: int = 4  # segments a tier holds before its smallest merge
    # Live rows a merged segment may hold at most: reading a merged segment's postings back from Whoosh
    # holds about 13 bytes a posting (~90 a paragraph) at once, ~2.5 GB at this size; larger
    # indexes keep several segments of about this size, each searched, none rewritten by merges.
    max_rows: int = 2_000_000
    max_deleted: float = 0.25  # a segment with more deleted rows than this share of its rows is rewritten
    # Rows of fresh segments, as a share of the largest IVF segment's, that are folded into it (`fold`). Searched
    # beside a 100k segment, a long feed's segments had made a hybrid search cost x2.05 the CPU after 3,577
    # writes (3 of 3,072 rows on its lists, 10 small exact ones: bench/writes/long_feed.py); folded in at 5 %,
    # the feed's segments stay under ~5,000 rows there. Each fold rewrites the large segment (at 100k ~86 s),
    # once per that share of new rows: at 100k every ~1,700 one-article writes, ~0.05 s of merge CPU a write.
    fold_share: float = 0.05


def tier(live_rows: int, policy: MergePolicy) -> int:
    """The tier of a segment of `live_rows` rows (0 for the smallest)."""
    return int(math.log(max(live_rows, policy.floor) / policy.floor, policy.per_tier) + 1e-9)


def deleted_share(info: SegmentInfo) -> float:
    return info.deleted_rows / info.rows if info.rows else 1.0 if info.deleted_articles else 0.0


def choose_merge(segments: list[SegmentInfo], policy: MergePolicy = MergePolicy()) -> list[str]:
    """The names of the segments to merge next (in commit order), or [] when none is due.

    The smallest tier that is full goes first (small merges are cheap and keep the segment count
    down); then a fold of the fresh segments into the largest IVF one (`fold`); then the segment with
    the largest share of deleted rows above `max_deleted`.
    """
    tiers: dict[int, list[SegmentInfo]] = {}
    for info in segments:
        tiers.setdefault(tier(info.live_rows, policy), []).append(info)
    order = {info.name: at for at, info in enumerate(segments)}
    for level in sorted(tiers):
        members = sorted(tiers[level], key=lambda s: (s.live_rows, order[s.name]))
        if len(members) >= policy.per_tier:
            chosen = members[:policy.per_tier]
            while len(chosen) > 1 and sum(s.live_rows for s in chosen) > policy.max_rows:
                chosen = chosen[:-1]
            if len(chosen) > 1:
                return sorted((s.name for s in chosen), key=order.__getitem__)
    folded = fold(segments, policy)
    if folded:
        return sorted((s.name for s in folded), key=order.__getitem__)
    rewritable = [s for s in segments if s.live_rows <= policy.max_rows]
    worst = max(rewritable, key=deleted_share, default=None)
    if worst is not None and deleted_share(worst) > policy.max_deleted:
        return [worst.name]
    return []


def fold(segments: list[SegmentInfo], policy: MergePolicy) -> list[SegmentInfo]:
    """The largest IVF segment and the fresh ones (each under twice `fold_share` of the rows the fold makes), once
    those hold `fold_share` of its rows together and the fold stays within `max_rows`; else []. Past `max_rows`
    nothing is folded: the fresh segments stay in their tiers, as every segment did before folds.

    Tiers bound how many segments a feed leaves, not what they cost: each is searched on its own (small ones
    exactly), so a query pays for fresh rows far more than for rows of the large segment, whose IVF lists
    it visits a few of. An index without IVF segments is small: its segments cost little, nothing is folded.
    """
    ivf = [s for s in segments if s.vector_index != "exact"]
    if not ivf:
        return []
    large = max(ivf, key=lambda s: s.live_rows)
    rows, fresh = 0, []
    while True:  # fresh by the size the fold makes: none left out is fresh after it (no second fold at once)
        now = [s for s in segments if s is not large and s.live_rows < 2 * policy.fold_share * (large.live_rows + rows)]
        if len(now) == len(fresh):
            break
        fresh, rows = now, sum(s.live_rows for s in now)
    if not fresh or rows < policy.fold_share * large.live_rows or large.live_rows + rows > policy.max_rows:
        return []
    return [large, *fresh]


def merge_all(segments: list[SegmentInfo]) -> list[str]:
    """Every segment, for `zhsearch optimize` (one segment, nothing deleted); [] when that is already so."""
    if len(segments) == 1 and not segments[0].deleted_rows and not segments[0].deleted_articles:
        return []
    return [s.name for s in segments]
