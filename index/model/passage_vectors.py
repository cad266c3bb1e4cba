"""A corpus's passage vectors, encoded in length-sorted chunks into a memory-mapped matrix.

Memory stays bounded at any corpus size: the only full copy of the vectors is the file
(and, once built, the FAISS index); RAM holds one chunk. Sorting all passages by their number
of model tokens first keeps padding out of almost every batch (sorted by characters, padding was
17-20 % of the tokens the model computed on the 100k benchmark corpus); rows land back in corpus order.

Two caches grow with the number of distinct batch shapes, which length-sorted batches make
large (measured: +100 MB a chunk, 5.3 GB of RSS at 100k paragraphs): oneDNN's primitive cache,
bounded by `INDEXING_ENV` in an indexing process before torch starts, and freed heap that
glibc keeps, handed back after every chunk.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from index.model.embed import Encoder
from index.model.heap import release_free_memory

INDEXING_ENV = {"ONEDNN_PRIMITIVE_CACHE_CAPACITY": "16"}  # kernels for 16 shapes, not 1024
CHUNK = 512  # passages per encoder call: fine-grained progress, negligible overhead
VECTORS_TMP = "vectors.tmp.npy"  # removed once the FAISS index is written
SENTENCES_TMP = "sentences.tmp.npy"  # the same, for sentence vectors


def bound_model_caches() -> None:
    """Apply INDEXING_ENV unless the user set those variables (call before torch is imported)."""
    for key, value in INDEXING_ENV.items():
        os.environ.setdefault(key, value)


def length_order(lengths: Sequence[int] | np.ndarray) -> np.ndarray:
    """Row numbers from shortest to longest (ties in corpus order)."""
    return np.argsort(np.asarray(lengths, dtype=np.int64), kind="stable")


def encode_to_file(encoder: Encoder, texts: Sequence[str], path: Path, console: Console,
                   unit: str = "paragraphs") -> np.ndarray:
    """Vectors of `texts` (row i for text i) in a .npy memory map at `path`, with progress and ETA.

    No text: an empty in-memory array (and no file), since a memory map cannot be empty.
    """
    if not texts:
        return np.zeros((0, encoder.dim), dtype=np.float32)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(len(texts), encoder.dim))
    encode_into(encoder, texts, out, console, unit)
    out.flush()
    return out


def encode_into(encoder: Encoder, texts: Sequence[str], out: np.ndarray, console: Console,
                unit: str = "paragraphs") -> None:
    """Write the vector of `texts[i]` into `out[i]` (an array or a memory map's rows), with progress and ETA."""
    order = length_order(encoder.passage_lengths(texts))
    columns = (TextColumn("embedding"), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=console.quiet) as progress:
        task = progress.add_task("embedding", total=len(texts))
        for start in range(0, len(texts), CHUNK):
            rows = order[start:start + CHUNK]
            out[rows] = encoder.encode_passages([texts[i] for i in rows])
            release_free_memory()
            progress.advance(task, len(rows))
