"""The accumulators' pool: zeroed arrays lent and taken back, kept across snapshots whose sizes differ a little."""

from __future__ import annotations

import numpy as np

from search.embedded.accumulators import ROUND, Accumulators, capacity


def test_capacity_rounds_up_to_whole_rounds():
    assert capacity(0) == capacity(1) == capacity(ROUND) == ROUND
    assert capacity(ROUND + 1) == 2 * ROUND


def test_a_view_of_the_size_asked_all_zeros():
    acc = Accumulators().take(1000)
    assert acc.shape == (1000,) and acc.dtype == np.float64 and not acc.any()
    assert len(acc.base) == ROUND


def test_an_array_given_back_serves_a_snapshot_a_few_rows_larger():
    pool = Accumulators()
    first = pool.take(100_000)
    pool.give_back(first)
    again = pool.take(100_003)  # three rows written since
    assert again.base is first.base and len(pool) == 0


def test_arrays_of_sizes_gone_by_are_dropped():
    pool = Accumulators()
    small = pool.take(10)
    pool.give_back(small)
    large = pool.take(3 * ROUND)  # the index grew past the small array's capacity
    assert large.base is not small.base and len(large) == 3 * ROUND and len(pool) == 0


def test_the_pool_keeps_at_most_keep_arrays():
    pool = Accumulators(keep=2)
    taken = [pool.take(5) for _ in range(3)]
    for acc in taken:
        pool.give_back(acc)
    assert len(pool) == 2
    again = [pool.take(5).base for _ in range(3)]  # kept alive: two from the pool, one new
    assert sum(any(a is t.base for t in taken) for a in again) == 2 and len(pool) == 0
