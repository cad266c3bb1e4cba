"""bench/common/results_file.py: a benchmark's results never overwrite a file already there."""

import time

from bench.common.results_file import results_file

NOW = time.strptime("2026-12-04 03:25:07", "%Y-%m-%d %H:%M:%S")


def test_the_days_name_then_the_time_then_a_count(tmp_path):
    folder = tmp_path / "results"
    first = results_file("writes", folder, NOW)
    assert first == folder / "2026-12-04-writes.md" and folder.is_dir()
    first.write_text("committed")
    second = results_file("writes", folder, NOW)
    assert second == folder / "2026-12-04-writes-032507.md"
    second.write_text("a run")
    third = results_file("writes", folder, NOW)
    assert third == folder / "2026-12-04-writes-032507-1.md"
    assert first.read_text() == "committed" and second.read_text() == "a run"
    assert results_file("writes-fake", folder, NOW) == folder / "2026-12-04-writes-fake.md"
