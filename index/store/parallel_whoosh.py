"""Whoosh written by several processes (its MpWriter), made safe to stop and checked for lost documents.

Whoosh's MpWriter forks writer processes that take batches of documents off a queue, each
tokenising (jieba, in our analyzer) and writing its own segment. As shipped it has gaps, closed here:
- every wait is unbounded: with its writer processes dead (killed, out of memory, an error) the
  parent blocks forever on the full job queue or on joining them. Here every wait is bounded and
  watches the processes: the first one that exits before it is told to fails the build;
- its `cancel()` flags the parent's copy of each process object, so after an error or Ctrl-C
  the children wait on the queue forever: here they are terminated;
- a child that dies loses its segment silently (the parent waits one second for each result and
  moves on): here every child must exit 0 and the index must hold exactly the documents added;
- a parent killed outright leaves its children blocked on the queue: here each child asks the
  kernel (Linux prctl PR_SET_PDEATHSIG) for SIGTERM when its parent dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import queue
import signal
import sys
from multiprocessing.connection import wait
from typing import Iterable

from whoosh.index import Index
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.util import random_name

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 1.0  # how often a blocked parent looks at its writer processes


class ParallelWriteError(RuntimeError):
    """A writer process failed, or the index does not hold every document added."""


def die_with_parent(parent: int) -> None:
    """Ask for SIGTERM when the parent process dies (Linux; elsewhere nothing); exit if it already has."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died between the fork and the prctl
        os._exit(1)


class _Task(SubWriterTask):
    """A Whoosh writer process that ends with its parent and answers SIGTERM."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.parent = os.getpid()

    def run(self) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's handler, if any, must not keep it alive
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__  # not a progress display's stand-ins
        die_with_parent(self.parent)
        super().run()


class _Writer(MpWriter):
    """MpWriter whose processes are `_Task`s and whose waits notice a dead process."""

    def _new_task(self) -> _Task:
        task = _Task(self.storage, self.indexname, self.jobqueue, self.resultqueue, self.subargs, self.multisegment)
        task.start()
        self.tasks.append(task)  # only started processes: stop_tasks joins every one listed
        return task

    def check_tasks(self, finishing: bool = False) -> None:
        """Raise if a writer process has exited early (any exit before `finishing`; a non-zero one while finishing)."""
        failed = [task.exitcode for task in self.tasks
                  if task.exitcode is not None and not (finishing and task.exitcode == 0)]
        if failed:
            raise ParallelWriteError(f"a Whoosh writer process exited early (exit codes {failed}; -9: killed, "
                                     "often out of memory): build again")

    def put(self, item: object, finishing: bool = False) -> None:
        """Put `item` on the job queue, waiting while it is full as long as no process failed (check_tasks)."""
        while True:
            try:
                self.jobqueue.put(item, timeout=POLL_SECONDS)
                return
            except queue.Full:
                self.check_tasks(finishing)

    def _enqueue(self) -> None:
        # As MpWriter._enqueue, with a put that cannot block forever.
        filename = f"{random_name()}.doclist"
        with self.temp_storage().create_file(filename).raw_file() as handle:
            for item in self.docbuffer:
                pickle.dump(item, handle, 2)
        if len(self.tasks) < self.procs:
            self._new_task()
        self.put((filename, len(self.docbuffer)))
        self.docbuffer = []

    def finish_tasks(self) -> None:
        """Hand out the last batch, tell every process to finish, and wait until all have exited 0."""
        if self.docbuffer:
            self._enqueue()
        for _ in self.tasks:
            self.put(None, finishing=True)
        while True:  # checked once more after the last exit: every process must have exited 0
            self.check_tasks(finishing=True)
            alive = [task.sentinel for task in self.tasks if task.is_alive()]
            if not alive:
                return
            wait(alive, timeout=POLL_SECONDS)


def stop_tasks(writer: MpWriter) -> None:
    """Terminate and reap every writer process, then discard the writer's own segment and lock."""
    for task in writer.tasks:
        if task.is_alive():
            task.terminate()
        task.join()
    with contextlib.suppress(Exception):  # a commit that failed half-way may have released it already
        writer.cancel()


def write_parallel(ix: Index, documents: Iterable[dict[str, object]], procs: int, limitmb: int,
                   batchsize: int) -> int:
    """Add `documents` to `ix` through `procs` writer processes, one segment each; how many were added.

    Raises ParallelWriteError when a process failed or a document is missing: the index is then
    incomplete, and the build that wrote it fails before its segment is committed.
    """
    before = ix.doc_count_all()
    writer = _Writer(ix, procs=procs, batchsize=batchsize, multisegment=True, limitmb=limitmb)
    added = 0
    try:
        for document in documents:
            writer.add_document(**document)
            added += 1
        writer.finish_tasks()
        writer.commit()  # the processes have exited: it collects their segments and writes the TOC
    except BaseException:
        stop_tasks(writer)
        raise
    held = ix.doc_count_all() - before  # every process exited 0 (finish_tasks): its segment must be there
    if held != added:
        raise ParallelWriteError(f"the index holds {held} of the {added} paragraphs added: build again")
    return added
