"""Background merges for a running service: after a commit, the merges the policy asks for run in a child process.

The policy is asked here first (pure, cheap); only when a merge is due does a child start.
The child (`index.merge.merge_process`) does the Python-heavy part of a merge (Whoosh copying its
postings) outside the service's interpreter, so queries do not wait on its lock; the service
keeps answering from the commit point it has, and opens the merged one when the child is done.
Children are forked from a server process that imported index.merge once (multiprocessing's
forkserver, started with the scheduler): a fresh interpreter spent ~0.5 s of CPU importing Whoosh,
FAISS and NumPy for every merge, as much as a small merge's own work, taken from searches. Each
merge still runs in a process of its own that exits after it, so what a large merge allocated
goes back to the system, and the child logs to the service's stderr.
At most one merge runs at a time (the merge lock, across processes); a request made while one
runs is served when it ends. A merge that fails is logged and tried again after the next commit.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from multiprocessing import forkserver
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Callable

from index.commits import read_current
from index.merge import merge_process
from index.merge_policy import MergePolicy, choose_merge

log = logging.getLogger("zhsearch.merge")
MERGE_TIMEOUT = 6 * 3600  # seconds a merge child may run (a 1M-paragraph segment takes tens of minutes)
# What the fork server imports once, before any child is forked. A child started from `zhsearch serve` also runs
# that script again (multiprocessing does, as __mp_main__), which imports api.cli.main: imported here, that costs
# the child nothing. (`python -m api.cli` runs api.cli.__main__, which multiprocessing does not run again.)
PRELOAD = ["index.merge", "api.cli.main"]


def merge_context() -> BaseContext:
    """multiprocessing's forkserver, its server importing PRELOAD (the setting only counts before it starts)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


class MergeScheduler:
    """Runs `merge_process` for `index_dir` in a forked child whenever asked (coalescing requests); `on_done` after
    each run."""

    def __init__(self, index_dir: Path, ann_threshold: int, on_done: Callable[[], None],
                 policy: MergePolicy = MergePolicy(), niceness: int = 0) -> None:
        self.index_dir = index_dir
        self.niceness = niceness  # how much nicer the merge process runs than the service
        self.ann_threshold = ann_threshold
        self.on_done = on_done
        self.policy = policy
        self._starting = threading.Lock()  # a child is started, or stop() looks for one: not both at once
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="zhsearch-merges", daemon=True)
        self._context = merge_context()
        self._child: multiprocessing.process.BaseProcess | None = None
        self.runs = 0

    def start(self) -> None:
        self._thread.start()

    def request(self) -> None:
        """Ask for the due merges to run (soon, in the background)."""
        self._wanted.set()

    def stop(self) -> None:
        with self._starting:
            self._stop.set()
            self._wanted.set()
            child = self._child
        if child is not None and child.is_alive():
            child.terminate()  # a merge killed half-way leaves only a temporary folder, removed later
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _serve(self) -> None:
        self._start_server()
        while True:
            self._wanted.wait()
            if self._stop.is_set():
                return
            self._wanted.clear()
            self._run_once()

    def _start_server(self) -> None:
        """Start the fork server now (it imports PRELOAD: ~0.5 s), not when the first merge is due; a failure is
        logged and tried again with that merge."""
        try:
            forkserver.ensure_running()
        except Exception as err:  # noqa: BLE001 - the merges' own start reports it again
            log.error("merge server could not start: %s", err)

    def _due(self) -> bool:
        """Whether the policy asks for a merge now (read in this process: cheap, unlike starting a child)."""
        try:
            _, manifest = read_current(self.index_dir)
        except Exception:  # no index, or a damaged commit point: nothing to merge
            return False
        return bool(choose_merge(manifest.segments, self.policy))

    def _run_once(self) -> None:
        if not self._due():
            return
        arguments = (self.index_dir.resolve(), self.ann_threshold, False, self.niceness)
        with self._starting:
            if self._stop.is_set():
                return
            try:
                self._child = self._context.Process(target=merge_process, args=arguments, name="zhsearch-merge")
                self._child.start()
            except Exception as err:  # noqa: BLE001 - OSError, or the fork server gone: retried after the next commit
                log.error("merge could not start: %s", err)
                self._child = None
                return
        child = self._child
        try:
            child.join(MERGE_TIMEOUT)
            if child.is_alive():
                child.kill()
                child.join()
                log.error("merge ran over %d s and was stopped", MERGE_TIMEOUT)
            elif child.exitcode != 0 and not self._stop.is_set():
                log.error("merge failed (exit %s); its traceback is above", child.exitcode)
        finally:
            self._child = None
            self.runs += 1
        if not self._stop.is_set():
            self.on_done()
