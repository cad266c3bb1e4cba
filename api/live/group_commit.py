"""Group commit: writes that arrive while one commits are committed together, in one commit point.

Each request embeds its own articles first (in its own thread, no lock held), then hands the
prepared update to the one committer thread and waits. The committer takes every update waiting
at that moment, commits them in arrival order (index/writer.py `commit_prepared`), makes the
service see the new commit point, and only then answers each: a write is acknowledged once it is
durable and searchable. A lone write commits at once; under load, N writers pay for about one commit.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Callable

from index.update import PreparedUpdate

MAX_BATCH = 64  # updates per commit at most (each holds at most 100 articles)

Commit = Callable[[list[PreparedUpdate]], list[Exception | None]]
_Job = tuple[PreparedUpdate, Future]


class GroupCommitter:
    """Serialises commits of one process; `commit` applies a batch and makes it visible, per update an error or None.

    Invariant: every submitted update gets exactly one answer, in the order the batch was committed;
    an exception of the whole batch (disk full, another process holding the lock) answers each of its updates.
    """

    def __init__(self, commit: Commit, max_batch: int = MAX_BATCH) -> None:
        self.commit = commit
        self.max_batch = max_batch
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._worker = threading.Thread(target=self._serve, name="zhsearch-group-commit", daemon=True)
        self._worker.start()

    def submit(self, update: PreparedUpdate) -> None:
        """Commit `update` (with whatever else waits) and return once it is visible; raise its error."""
        job: _Job = (update, Future())
        self._jobs.put(job)
        job[1].result()

    def _next_batch(self) -> list[_Job]:
        batch = [self._jobs.get()]
        while len(batch) < self.max_batch:
            try:
                batch.append(self._jobs.get_nowait())
            except queue.Empty:
                break
        return batch

    def _serve(self) -> None:
        while True:
            batch = self._next_batch()
            try:
                outcomes = self.commit([update for update, _ in batch])
            except BaseException as err:  # the whole batch failed: every writer hears why
                for _, future in batch:
                    future.set_exception(err)
                continue
            for (_, future), outcome in zip(batch, outcomes):
                if outcome is None:
                    future.set_result(None)
                else:
                    future.set_exception(outcome)
