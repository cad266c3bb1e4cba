"""Background merges for a running service: after a commit, the merges the policy asks for run in a child process.

The policy is asked here first (pure, cheap); only when a merge is due does a child start.
The child (`python -m index.merge`) does the Python-heavy part of a merge (Whoosh copying its
postings) outside the service's interpreter, so queries do not wait on its lock; the service
keeps answering from the commit point it has, and opens the merged one when the child is done.
At most one merge runs at a time (the merge lock, across processes); a request made while one
runs is served when it ends. A merge that fails is logged and tried again after the next commit.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable

from index.commits import read_current
from index.merge_policy import MergePolicy, choose_merge

log = logging.getLogger("zhsearch.merge")
MERGE_TIMEOUT = 6 * 3600  # seconds a merge child may run (a 1M-paragraph segment takes tens of minutes)


class MergeScheduler:
    """Runs `python -m index.merge` for `index_dir` whenever asked (coalescing requests); `on_done` after each run."""

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
        self._child: subprocess.Popen | None = None
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
        if child is not None and child.poll() is None:
            child.terminate()  # a merge killed half-way leaves only a temporary folder, removed later
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _serve(self) -> None:
        while True:
            self._wanted.wait()
            if self._stop.is_set():
                return
            self._wanted.clear()
            self._run_once()

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
        command = [sys.executable, "-m", "index.merge", "--index-dir", str(self.index_dir),
                   "--ann-threshold", str(self.ann_threshold), "--nice", str(self.niceness)]
        with self._starting:
            if self._stop.is_set():
                return
            try:
                self._child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            except OSError as err:
                log.error("merge could not start: %s", err)
                return
        child = self._child
        try:
            out, _ = child.communicate(timeout=MERGE_TIMEOUT)
            if child.returncode != 0 and not self._stop.is_set():
                log.error("merge failed (exit %s): %s", child.returncode, out.strip()[-2000:])
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            log.error("merge ran over %d s and was stopped", MERGE_TIMEOUT)
        finally:
            self._child = None
            self.runs += 1
        if not self._stop.is_set():
            self.on_done()
