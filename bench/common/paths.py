"""Where the benchmarks find things: the checkout, its tests (the fake encoder), the shared sets, the results."""

from __future__ import annotations

from pathlib import Path

BENCH = Path(__file__).resolve().parents[1]  # bench/
ROOT = BENCH.parent  # the checkout: run a benchmark from here, `python -m bench.<package>.<script>`
TESTS = ROOT / "tests"
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"
RESULTS = BENCH / "results"
