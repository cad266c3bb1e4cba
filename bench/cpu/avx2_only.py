"""Run a command as on a CPU without AVX-512, AMX, AVX-VNNI or bfloat16 (avx2_only.c, LD_PRELOADed).

The shim is compiled once with gcc into .zhsearch/avx2_only.so; the command and every process it
starts (the bench's builds, its server) see an AVX2-only CPU through cpuid, so every library picks
its AVX2 kernels and `ZHSEARCH_MODEL_DTYPE=auto` picks float32, as on AMD EPYC and Ryzen before
Zen 4 and Intel before Sapphire Rapids. The host's clocks, caches and core widths stay: a
machine that stands in is compared with itself, figures side by side, never across machines.

Usage: .venv/bin/python bench/cpu/avx2_only.py [--check] -- COMMAND [ARG...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SOURCE = HERE / "avx2_only.c"
CHECK = ("from index.model.cpu import cpu_features, describe_cpu; import torch; "
         "print(describe_cpu(cpu_features()), torch.backends.cpu.get_cpu_capability())")


def compiled(out_dir: Path = ROOT / ".zhsearch") -> Path:
    """The shim as a shared object, rebuilt when its source is newer."""
    shim = out_dir / "avx2_only.so"
    if not shim.exists() or shim.stat().st_mtime < SOURCE.stat().st_mtime:
        out_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", str(shim), str(SOURCE)], check=True)
    return shim


def environment(shim: Path) -> dict[str, str]:
    """This process's environment with the shim preloaded (quietly) in front of any other preload."""
    preload = " ".join(p for p in (str(shim), os.environ.get("LD_PRELOAD", "")) if p)
    # PYTHONFAULTHANDLER would take the SIGSEGV handler that answers cpuid: left out.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONFAULTHANDLER"}
    return {**env, "LD_PRELOAD": preload, "ZHSEARCH_AVX2_ONLY_QUIET": "1"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="print what a child process sees, then run the command")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    env = environment(compiled())
    if args.check or not command:
        seen = subprocess.run([sys.executable, "-c", CHECK], env=env, cwd=ROOT, capture_output=True, text=True)
        print(f"avx2_only: a child process sees {seen.stdout.strip() or seen.stderr.strip()}", file=sys.stderr)
    if command:
        sys.exit(subprocess.run(command, env=env).returncode)


if __name__ == "__main__":
    main()
