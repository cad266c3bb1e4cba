"""Resident memory of a process (Linux /proc) and timed phases with their peak RSS."""

from __future__ import annotations

import os
import resource
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of a process now (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * PAGE_BYTES
    except (OSError, IndexError, ValueError):
        return 0


def children_of(pid: int) -> list[int]:
    """The direct child processes of `pid` (Linux /proc)."""
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                found += [int(child) for child in handle.read().split()]
    except OSError:
        pass
    return found


def status_bytes(field: str, pid: int | str = "self") -> int:
    """A size line of /proc/<pid>/status (e.g. "VmHWM", "RssAnon") in bytes; 0 when unknown or the process is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def anon_rss_bytes(pid: int | str = "self") -> int:
    """The anonymous part of a process's resident set (RssAnon: its heaps, not mapped files).

    The rest of RSS is mapped files (an index's memory-mapped segments), pages the kernel can drop and
    read again: searches touching more of an index raise RSS without the process holding more memory."""
    return status_bytes("RssAnon", pid)


def descendants_of(pid: int, depth: int = 2) -> list[int]:
    """The child processes of `pid` and theirs, `depth` generations down (a service's merge server, its merge)."""
    children = children_of(pid)
    return children + [p for child in children for p in descendants_of(child, depth - 1)] if depth > 1 else children


def children_rss_bytes(pid: int) -> int:
    """Resident set size of the child processes of `pid` and of theirs now (a service's merge server, and the
    merge it forked)."""
    return sum(rss_bytes(process) for process in descendants_of(pid))


def peak_rss_bytes(pid: int | str = "self") -> int:
    """The kernel's high-water mark of a process's resident set (VmHWM)."""
    return status_bytes("VmHWM", pid)


def own_peak_rss_bytes() -> int:
    """Peak RSS of this process since it started (getrusage; kilobytes on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass
class Phase:
    """One timed step: wall seconds and the highest RSS sampled while it ran."""

    name: str
    seconds: float = 0.0
    peak_rss: int = 0


@dataclass
class PhaseRecorder:
    """Times named phases and samples this process's RSS every `interval` seconds meanwhile.

    Invariant: a phase's `peak_rss` is the process's whole RSS (everything loaded before it
    included), taken as the maximum of the samples and the RSS at its start and end.
    """

    interval: float = 0.02
    phases: dict[str, Phase] = field(default_factory=dict)
    _current: Phase | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            phase = self._current
            if phase is not None:
                phase.peak_rss = max(phase.peak_rss, rss_bytes())

    def __enter__(self) -> "PhaseRecorder":
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @contextmanager
    def phase(self, name: str) -> Iterator[Phase]:
        """Time the block as phase `name` (repeated names add up)."""
        phase = self.phases.setdefault(name, Phase(name))
        phase.peak_rss = max(phase.peak_rss, rss_bytes())
        self._current = phase
        started = time.perf_counter()
        try:
            yield phase
        finally:
            phase.seconds += time.perf_counter() - started
            phase.peak_rss = max(phase.peak_rss, rss_bytes())
            self._current = None

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {name: {"seconds": p.seconds, "peak_rss": p.peak_rss} for name, p in self.phases.items()}
