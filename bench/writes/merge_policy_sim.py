"""A merge policy over a long feed, simulated: merges' CPU per write and segments searched, by the feed's length.

Usage: .venv/bin/python -m bench.writes.merge_policy_sim [--writes 60 --writes 3600 ...] [--base 100000]

One-article writes (3 rows each) land on an index of `--base` rows in one segment; after each write
the policy (index/merge_policy.py, the real choose_merge) merges until nothing is due, each merge
charged MERGE_CPU_S(rows), fitted to merges measured in one process (2-core AMD EPYC, 2026-12-03,
on the 100k bench index: 24 rows 0.35 s, 111 rows 0.75 s, 321 rows 1.6 s, 921 rows 3.0 s; a
merge's cost follows its distinct terms, which grow slower than its rows). What a service runs
is the same policy with real merges beside searches (bench/writes/write_feed.py measures those).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from index.manifest import SegmentInfo
from index.merge_policy import MergePolicy, choose_merge

ARTICLE_ROWS = 3


def merge_cpu_s(rows: int) -> float:
    """CPU seconds of one merge of `rows` rows (the fit above)."""
    return 0.13 + 0.024 * rows ** 0.7


@dataclass
class FeedCost:
    merge_s_per_write: float
    mean_segments: float
    most_segments: int


def simulate(policy: MergePolicy, writes: int, base: int) -> FeedCost:
    """Run `writes` one-article writes and the policy's merges after each; what they cost."""
    segments = [SegmentInfo(name="s0", rows=base, articles=base // ARTICLE_ROWS)]
    made, spent, counted, most = 1, 0.0, 0, 0
    for _ in range(writes):
        segments.append(SegmentInfo(name=f"s{made}", rows=ARTICLE_ROWS, articles=1))
        made += 1
        while names := set(choose_merge(segments, policy)):
            rows = sum(s.rows for s in segments if s.name in names)
            spent += merge_cpu_s(rows)
            segments = [s for s in segments if s.name not in names]
            segments.append(SegmentInfo(name=f"s{made}", rows=rows, articles=rows // ARTICLE_ROWS))
            made += 1
        counted += len(segments)
        most = max(most, len(segments))
    return FeedCost(spent / writes, counted / writes, most)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, action="append", help="feed lengths (repeat); default 60 .. 36,000")
    parser.add_argument("--base", type=int, default=100_000)
    args = parser.parse_args()
    lengths = args.writes or [60, 180, 3_600, 36_000]
    policies = {"floor 1,000, 8 a tier (before 2026-12-03)": MergePolicy(floor=1_000, per_tier=8),
                "floor 100, 8 a tier": MergePolicy(floor=100, per_tier=8),
                "floor 10, 8 a tier": MergePolicy(floor=10, per_tier=8),
                "floor 30, 4 a tier": MergePolicy(floor=30, per_tier=4),
                "floor 10, 4 a tier (default)": MergePolicy()}
    print("| policy | " + " | ".join(f"{n:,} writes: merge CPU a write, segments mean / most" for n in lengths) + " |")
    print("|---|" + "---|" * len(lengths))
    for name, policy in policies.items():
        cells = [simulate(policy, n, args.base) for n in lengths]
        print(f"| {name} | " + " | ".join(f"{c.merge_s_per_write:.3f} s, {c.mean_segments:.1f} / {c.most_segments}"
                                         for c in cells) + " |")


if __name__ == "__main__":
    main()
