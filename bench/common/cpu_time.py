"""CPU time a process and its descendants spent, from Linux /proc: what a phase of a benchmark cost a server."""

from __future__ import annotations

import os
from dataclasses import dataclass

from bench.common.memory import children_of

TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuTime:
    own: float  # seconds of user + system CPU of the process itself
    descendants: float  # of its children, live ones and those reaped (by it, or by a live child: a fork server's)

    def __sub__(self, other: CpuTime) -> CpuTime:
        return CpuTime(self.own - other.own, self.descendants - other.descendants)


def stat_seconds(pid: int) -> tuple[float, float]:
    """(user + system CPU of `pid`, that of the children it has reaped) in seconds; (0, 0) once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    except (OSError, IndexError):
        return 0.0, 0.0
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime) * TICK_S, (cutime + cstime) * TICK_S


def cpu_time(pid: int) -> CpuTime:
    """What `pid` spent, and its descendants two levels down (a merge forked by the service's fork server
    counts once the server has reaped it; one still running counts when it ends)."""
    own, reaped = stat_seconds(pid)
    for child in children_of(pid):
        child_own, child_reaped = stat_seconds(child)
        reaped += child_own + child_reaped
    return CpuTime(own, reaped)
