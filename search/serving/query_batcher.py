"""Query encoding for a concurrent service: queries waiting at the same moment go through the model together.

One forward pass over 8 short queries costs far less than 8 passes over one (the model's
weights are read once; on 2 cores its threads are busy either way), so under load every
waiting query joins the next batch. A lone query is encoded at once, as before.

Passages (a service's writes) are encoded for WRITE_PASSES callers at a time at most. Unbounded,
writes posted faster than they were embedded each ran their own forward passes at once: a burst
took every core from the searches, and every pass running beside others grew ONNX Runtime's
arena, which keeps its peak for good. One at a time starved the writes instead: under 8 clients
searching on 2 cores one pass got ~20 % of a core, less than one article a second needs, and the
queue of writes grew for as long as the feed lasted (bench/writes/write_feed.py, docs/performance.md).

Measured here (2 cores): outside the main thread, torch's 2-thread OpenMP team encodes a
query at about half the speed of the main thread's; with 1 thread, as fast. A service,
whose requests run in worker threads, encodes in this one thread with `torch_threads=1`.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Sequence

import numpy as np

from index.model.embed import Encoder
from search.serving.recent_vectors import RECENT_QUERIES, RecentVectors

MAX_BATCH = 32  # queries per forward pass at most
WRITE_PASSES = 2  # callers (a service's writes) whose passages are encoded at once, at most

_Job = tuple[list[str], Future]


class BatchingEncoder:
    """An Encoder whose `encode_queries` batches concurrent callers; passages are encoded for WRITE_PASSES callers
    at a time at most.

    Invariant: each caller gets exactly the rows of its own texts, in its order, and a text asked
    again while it is recent gets the same vector (search/serving/recent_vectors.py).
    """

    def __init__(self, inner: Encoder, max_batch: int = MAX_BATCH, torch_threads: int | None = None,
                 recent: int = RECENT_QUERIES) -> None:
        self.inner = inner
        self.torch_threads = torch_threads
        self.name = inner.name
        self.dim = inner.dim
        self.max_batch = max_batch
        self.recent = RecentVectors(recent)
        self._passages = threading.BoundedSemaphore(WRITE_PASSES)  # held while a caller's passages are encoded
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._worker = threading.Thread(target=self._serve, name="zhsearch-query-encoder", daemon=True)
        self._worker.start()

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors, one unit row per text: a recent text's vector again, the rest encoded with whatever waits."""
        if not texts:
            return self.inner.encode_queries([])
        found = self.recent.get(texts)
        missing = list(dict.fromkeys(text for text, vector in zip(texts, found) if vector is None))
        if missing:
            job: _Job = (missing, Future())
            self._jobs.put(job)
            encoded = job[1].result()
            self.recent.put(missing, encoded)
            # another caller's vector for the same text may have been kept first: take that one
            fresh = {text: kept if kept is not None else row
                     for text, row, kept in zip(missing, encoded, self.recent.get(missing))}
            found = [vector if vector is not None else fresh[text] for text, vector in zip(texts, found)]
        return np.stack(found)

    def encode_passages(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Passage vectors; a caller waits while WRITE_PASSES others' passages are being encoded."""
        with self._passages:
            return self.inner.encode_passages(texts, show_progress)

    def passage_lengths(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.passage_lengths(texts)

    def config(self) -> dict[str, object]:
        return self.inner.config()

    def describe(self) -> dict[str, str]:
        return self.inner.describe()

    def _next_batch(self) -> list[_Job]:
        """The oldest waiting job and whatever else waits now, up to `max_batch` texts."""
        batch = [self._jobs.get()]
        size = len(batch[0][0])
        while size < self.max_batch:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            batch.append(job)
            size += len(job[0])
        return batch

    def _serve(self) -> None:
        if self.torch_threads:  # process-wide: only a service that encodes here alone should ask
            import torch

            torch.set_num_threads(self.torch_threads)
        while True:
            batch = self._next_batch()
            try:
                vectors = self.inner.encode_queries([text for texts, _ in batch for text in texts])
            except Exception as err:  # every waiting caller sees the model's error
                for _, future in batch:
                    future.set_exception(err)
                continue
            start = 0
            for texts, future in batch:
                future.set_result(vectors[start:start + len(texts)])
                start += len(texts)
