"""Write work at a lower CPU priority than searches: on a busy machine the scheduler runs searches first.

A service embeds new articles, commits them and merges segments on the same cores that answer
searches; at normal priority one article a second costs the searches' p99 a model pass each time.
The service's write threads and its merge process run `ZHSEARCH_WRITE_NICE` steps nicer (Linux:
a thread has its own niceness), so writes take what the searches leave; on an idle machine they
run as fast as before. Where the platform has no per-thread niceness this does nothing.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger("zhsearch.priority")


def lower_thread_priority(niceness: int) -> None:
    """Make the calling thread `niceness` steps nicer (Linux; elsewhere, or at 0, nothing)."""
    if niceness <= 0 or not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(os.getpriority(os.PRIO_PROCESS, tid) + niceness, 19))
    except OSError as err:  # not allowed here: run at the usual priority
        log.warning("write threads keep their priority: %s", err)
