"""Parity of the Milvus backend with the embedded one: every mode's nDCG@10 on each dataset, both backends, with
ranx's paired test, and how often each leg's top 10 is the same (same ids, same order).

Each dataset's corpus index is built (or reused) as `zhsearch eval` builds it; the Milvus side searches a copy
of it (`zhsearch export`, into `<collection>_eval_<dataset>` at --uri). One encoder serves both sides, so the
query vectors are the same; the difference measured is the engine's alone.

Usage: .venv/bin/python -m bench.milvus.milvus_parity [--uri /tmp/parity.db]
       [--out bench/results/<date>-milvus-parity.md]
       [DATASET ...]   (default: eval/datasets/seeds and ../shared/datasets/*)
Milvus Lite's figures say nothing of a server's speed; its rankings are what this measures.
"""

from __future__ import annotations

import argparse
import datetime
import time
from pathlib import Path

from bench.common.machine import cpu_model
from bench.common.paths import ROOT, SHARED_DATASETS
from eval.compare import significance
from eval.evaluate import eval_index_dir, evaluate_dataset
from eval.datasets import load_dataset
from index.model.runtime import load_encoder
from index.settings import Settings

DEFAULT_DATASETS = [ROOT / "eval/datasets/seeds", *sorted(SHARED_DATASETS.glob("*/"))]


def same_top(a: dict[str, list], b: dict[str, list], depth: int = 10) -> float:
    """Share of queries whose top `depth` ids are the same, in the same order."""
    same = sum(1 for qid in a if [pid for pid, _ in a[qid][:depth]] == [pid for pid, _ in b.get(qid, [])[:depth]])
    return same / len(a) if a else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*", type=Path)
    parser.add_argument("--uri", default="/tmp/zhsearch-parity.db")
    parser.add_argument("--out", type=Path, default=ROOT / f"bench/results/{datetime.date.today()}-milvus-parity.md")
    args = parser.parse_args()
    base = Settings()
    encoder = load_encoder(base)
    lines = [f"# Milvus backend parity, {datetime.date.today()}", "",
             f"CPU: {cpu_model()}. Milvus: {args.uri} (Milvus Lite unless a server URI). Re-run: "
             "`.venv/bin/python -m bench.milvus.milvus_parity`.", "",
             "| dataset | queries | mode | nDCG@10 embedded | nDCG@10 Milvus | p (Fisher, paired) | top 10 identical | "
             "seconds embedded / Milvus |", "|---|---|---|---|---|---|---|---|"]
    for folder in args.datasets or DEFAULT_DATASETS:
        dataset = load_dataset(folder)
        settings = base.model_copy(update={"index_dir": eval_index_dir(base, dataset)})
        started = time.perf_counter()
        embedded = evaluate_dataset(folder, settings, encoder=encoder, quiet=True)
        middle = time.perf_counter()
        milvus = evaluate_dataset(folder, settings.model_copy(update={"backend": "milvus", "milvus_uri": args.uri,
                                                                        "milvus_timeout_s": 120}),
                                  encoder=encoder, quiet=True)
        done = time.perf_counter()
        legs = {"bm25": same_top(embedded.legs.sparse, milvus.legs.sparse),
                "dense": same_top(embedded.legs.dense, milvus.legs.dense),
                "hybrid": same_top({q: list(r.items()) for q, r in embedded.runs["hybrid"].items()},
                                   {q: list(r.items()) for q, r in milvus.runs["hybrid"].items()})}
        for mode in ("bm25", "dense", "hybrid"):
            test = significance(embedded.dataset.qrels, {"embedded": embedded.runs[mode], "milvus": milvus.runs[mode]},
                                ["ndcg@10"])[0]
            line = (f"| {dataset.name} | {len(embedded.runs[mode])} | {mode} | {embedded.scores[mode]['ndcg@10']:.4f} | "
                    f"{milvus.scores[mode]['ndcg@10']:.4f} | {test['p_value']:.4f} | {legs[mode]:.1%} | "
                    f"{middle - started:.0f} / {done - middle:.0f} |")
            lines.append(line)
            print(line, flush=True)
        write(args.out, lines)  # after each dataset: a long run keeps what it measured
    print(f"written to {args.out}")


def write(out: Path, lines: list[str]) -> None:
    out.write_text("\n".join(lines + ["", "Seconds include building or exporting a corpus when it was not cached yet, "
                                      "and the legs of every query (Milvus Lite scans its rows: it is not a measure "
                                      "of a server's speed)."]) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
