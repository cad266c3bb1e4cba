"""Whoosh written by several processes (its MpWriter), made safe to stop and checked for lost documents.

Whoosh's MpWriter forks writer processes that take batches of documents off a queue, each
tokenising (jieba, in our analyzer) and writing its own segment. As shipped it has three gaps,
closed here:
- its `cancel()` flags the parent's copy of each process object, so after an error or Ctrl-C
  the children wait on the queue forever and the parent hangs at exit joining them: here they
  are terminated;
- a child that dies (killed, out of memory) loses its segment silently (the parent waits one
  second for each result and moves on): here every child must exit 0 and the index must hold
  exactly the documents added, or the build fails;
- a parent killed outright leaves its children blocked on the queue: here each child asks the
  kernel (Linux prctl PR_SET_PDEATHSIG) to be sent SIGTERM when its parent dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
from typing import Iterable

from whoosh.index import Index
from whoosh.multiproc import MpWriter, SubWriterTask

PR_SET_PDEATHSIG = 1


class ParallelWriteError(RuntimeError):
    """A writer process failed, or the index does not hold every document added."""


def die_with_parent() -> None:
    """Ask for SIGTERM when the parent process dies (Linux; elsewhere nothing)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class _Task(SubWriterTask):
    """A Whoosh writer process that ends with its parent."""

    def run(self) -> None:
        die_with_parent()
        super().run()


class _Writer(MpWriter):
    """MpWriter whose processes are `_Task`s."""

    def _new_task(self) -> _Task:
        task = _Task(self.storage, self.indexname, self.jobqueue, self.resultqueue, self.subargs, self.multisegment)
        self.tasks.append(task)
        task.start()
        return task


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
    incomplete, and the build that wrote it fails before its generation becomes current.
    """
    before = ix.doc_count_all()
    writer = _Writer(ix, procs=procs, batchsize=batchsize, multisegment=True, limitmb=limitmb)
    added = 0
    try:
        for document in documents:
            writer.add_document(**document)
            added += 1
        writer.commit()
    except BaseException:
        stop_tasks(writer)
        raise
    failed = [task.exitcode for task in writer.tasks if task.exitcode != 0]
    held = ix.doc_count_all() - before
    if failed or held != added:
        raise ParallelWriteError(
            f"Whoosh writer processes exited with {failed or 'success'} and the index holds {held} of the "
            f"{added} paragraphs added: build again (set fewer processes if memory ran out)")
    return added
