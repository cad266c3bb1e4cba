"""A corpus's passage vectors, encoded in length-sorted chunks into a memory-mapped matrix.

Memory stays bounded at any corpus size: the only full copy of the vectors is the file
(and, once built, the FAISS index); RAM holds one chunk. Sorting all passages by length
first keeps padding small in every batch; rows land back in corpus order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from index.embed import Encoder

CHUNK = 512  # passages per encoder call: fine-grained progress, negligible overhead
VECTORS_TMP = "vectors.tmp.npy"  # removed once the FAISS index is written


def length_order(texts: Sequence[str]) -> np.ndarray:
    """Row numbers of `texts` from shortest to longest (ties in corpus order)."""
    return np.argsort(np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts)), kind="stable")


def encode_to_file(encoder: Encoder, texts: Sequence[str], path: Path, console: Console) -> np.memmap:
    """Vectors of `texts` (row i for text i) in a .npy memory map at `path`, with progress and ETA."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(len(texts), encoder.dim))
    order = length_order(texts)
    columns = (TextColumn("embedding"), BarColumn(), MofNCompleteColumn(), TextColumn("paragraphs"),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=console.quiet) as progress:
        task = progress.add_task("embedding", total=len(texts))
        for start in range(0, len(texts), CHUNK):
            rows = order[start:start + CHUNK]
            out[rows] = encoder.encode_passages([texts[i] for i in rows])
            progress.advance(task, len(rows))
    out.flush()
    return out
