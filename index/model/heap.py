"""The C heap: how many glibc keeps for threads, and handing its free pages back to the system."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os


@functools.cache
def _libc() -> ctypes.CDLL:
    """The C library (raises OSError where it cannot be loaded)."""
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def release_free_memory() -> None:
    """glibc's malloc_trim(0): free pages that glibc would otherwise keep go back to the system.

    glibc keeps what a model run, a replaced searcher or a write freed (over 60 writes at 100k,
    24 MB that this returns). A no-op where the C library is not glibc.
    """
    try:
        _libc().malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


M_ARENA_MAX = -8  # mallopt's parameter number for the most heaps (arenas) glibc keeps (malloc.h)
SERVICE_HEAPS = 2  # a service's (see limit_heaps)


def limit_heaps(count: int) -> bool:
    """At most `count` glibc heaps for this process's threads, unless MALLOC_ARENA_MAX names the number; True if set.

    glibc gives threads heaps of their own, up to 8 per CPU, and each keeps what it once held: a service's
    request threads, model threads and writes spread their allocations over many. Measured at 100k with
    a feed of writes beside 8 searching clients: heaps +40 MB at the feed's end and +18-20 MB kept once the
    service settled with glibc's default, +23.6 MB and -5.5 MB with 2 (searches as fast). Call it before
    the threads start: heaps made before stay.
    """
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        return bool(_libc().mallopt(M_ARENA_MAX, count))
    except (OSError, AttributeError):  # not glibc
        return False
