"""What a service's merges cost: one-article writes into a copy of a bench index, the merge policy run after each.

A service forks a merge after each commit that leaves one due (api/live/merge_scheduler.py); this runs the
same `run_merges` in this process after each write, so that its CPU can be timed apart from everything else.
It prints the merges' CPU per write and per merge (median and total), in the index's segments as they come
(the fake encoder: no model; merges copy vectors, they never embed).

Usage: .venv/bin/python -m bench.writes.merge_cost --source /tmp/wlf/100000/index [--writes 40] [--rounds 3]
(`--source`: an index of the fake encoder, e.g. from bench/model/reencode.py; it is copied by hard links, never written).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.common.encoders import load_encoder
from bench.writes.write_common import fresh_articles, hardlink_copy
from index.merge import run_merges
from index.settings import Settings
from index.tokenize import tokenizer_from
from index.writer import apply_update


def one_round(source: Path, writes: int, work: Path) -> list[tuple[int, float]]:
    """(merges run, their CPU seconds) after each write that left some due, on a fresh copy of `source`."""
    index_dir = hardlink_copy(source, work / "index")
    settings = Settings(index_dir=index_dir)
    tokenizer, encoder = tokenizer_from(settings), load_encoder(settings, fake=True)
    found = []
    for article in fresh_articles(writes, seed=9):
        apply_update(index_dir, [article], [], tokenizer, encoder)
        started = time.process_time()
        merges = run_merges(index_dir)
        if merges:
            found.append((merges, time.process_time() - started))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--writes", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    totals, per_merge = [], []
    with tempfile.TemporaryDirectory(prefix="merge-cost-") as work:
        for _ in range(args.rounds):
            found = one_round(args.source, args.writes, Path(work))
            totals.append(sum(cpu for _, cpu in found))
            per_merge += [cpu / merges for merges, cpu in found]
            print(f"round: {sum(m for m, _ in found)} merges over {args.writes} writes, CPU {totals[-1]:.2f} s",
                  flush=True)
    a_write = statistics.median(totals) / args.writes
    print(f"merges' CPU a write, median of {args.rounds} rounds: {a_write * 1000:.1f} ms; "
          f"a merge, median: {statistics.median(per_merge) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
