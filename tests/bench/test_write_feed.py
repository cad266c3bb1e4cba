"""bench/writes/write_feed.py's arithmetic: what the writes took of the service's CPU beside the searches."""

from bench.common.cpu_time import CpuTime
from bench.common.latency import Timings
from bench.writes.write_feed import writes_share


def test_the_writes_take_what_the_searches_beside_them_do_not_at_the_controls_cost():
    control = Timings(ms=[10.0] * 1000)  # 1,000 searches for 8 s of the service's CPU: 8 ms a search
    busy = Timings(ms=[12.0] * 750)  # beside the writes, 750 searches: 6 s of it, and 9 s in all
    found = writes_share({"cpu_again": CpuTime(8.0, 0.0), "cpu": CpuTime(9.0, 0.0), "again": control,
                          "busy": busy, "acked": 60})
    assert found == "8.0 s / 9.0 s (8.00 ms a search): 3.0 s, 50 ms a write"
