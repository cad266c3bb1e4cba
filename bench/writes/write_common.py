"""What the write benchmarks share: the articles they post, the index's size on disk, how they print figures."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.common.corpus import recombined_articles
from index.commits import LOCK_FILE, MERGE_LOCK_FILE, read_current
from index.models import Article

TOKEN = "bench-write-token"  # the servers the write benchmarks start take writes with this token


def log(message: str) -> None:
    print(f"[writes {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def hardlink_copy(source: Path, target: Path) -> Path:
    """`cp -al`: a copy that shares every file's data (the writer never changes a file, only adds and renames)."""
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-al", str(source), str(target)], check=True)
    for lock in (LOCK_FILE, MERGE_LOCK_FILE):  # locks of its own: flock locks the file, which a link shares
        (target / lock).unlink(missing_ok=True)
    return target


def index_bytes(index_dir: Path) -> int:
    """Bytes of what the current commit point lists (segments, tombstones): the index, not what awaits removal."""
    _, manifest = read_current(index_dir)
    total = sum(folder_bytes(index_dir / s.name) for s in manifest.segments)
    return total + sum((index_dir / s.deletes).stat().st_size for s in manifest.segments if s.deletes)


def fresh_articles(count: int, seed: int, marker: str = "") -> list[Article]:
    """`count` three-paragraph articles of real sentences recombined, with ids no corpus has (w-<seed>-<n>)."""
    made = []
    rng = random.Random(seed)
    for n, article in enumerate(recombined_articles(count * 3, rng)):
        paragraphs = list(article.paragraphs[:3])
        while len(paragraphs) < 3:
            paragraphs.append(paragraphs[-1] + "。")
        if marker:
            paragraphs[0] = f"{paragraphs[0]} {marker}{seed}x{n}"
        made.append(Article(f"w-{seed}-{n:05d}", article.title, tuple(paragraphs), source="bench-writes"))
        if len(made) == count:
            break
    return made


def article_body(article: Article) -> dict:
    """The JSON body of `POST /articles` that adds or replaces `article` (its paragraphs as lines)."""
    return {"articles": [{"id": article.id, "title": article.title, "text": "\n".join(article.paragraphs)}]}


def summary(values: list[float]) -> dict[str, float]:
    array = np.asarray(values, dtype=np.float64)
    return {"p50": float(np.median(array)), "p99": float(np.percentile(array, 99)), "max": float(array.max()),
            "n": len(values)} if len(values) else {"p50": float("nan"), "p99": float("nan"), "max": float("nan"), "n": 0}


def mb(value: float) -> str:
    return f"{value / 1e6:,.1f} MB"
