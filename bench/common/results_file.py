"""Where a benchmark writes its Markdown results: bench/results/<date>-<name>.md, never over a file already there.

Several benchmarks name their results by the day, and a result committed earlier that day (or a run's before) is
not overwritten: the new file gets the time as well, <date>-<name>-<HHMMSS>.md.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.common.paths import RESULTS


def results_file(name: str, folder: Path = RESULTS, now: time.struct_time | None = None) -> Path:
    """A path for today's `name` results in `folder` (made if missing) that no file holds yet."""
    now = now or time.localtime()
    folder.mkdir(parents=True, exist_ok=True)
    day, clock = time.strftime("%Y-%m-%d", now), time.strftime("%H%M%S", now)
    path, n = folder / f"{day}-{name}.md", 0
    while path.exists():  # then the time, then a count (two runs in one second)
        path = folder / f"{day}-{name}-{clock}{f'-{n}' if n else ''}.md"
        n += 1
    return path
