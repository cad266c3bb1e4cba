"""Date ranges: a date of a year, a month or a day stands for its period and meets a range it overlaps."""

import pytest

from search.filters import Filter, date_accepted


@pytest.mark.parametrize("date, date_from, date_to, expected", [
    ("2026-01", "2026-01-01", "2026-01-31", True),  # a month-only date inside its month facet's bounds
    ("2026-01", "2026-01-10", None, True),  # overlaps: January reaches past the 10th
    ("2025-12", "2026-01-01", None, False),
    ("2026", "2026-06-01", "2026-06-30", True),
    ("2026-01-12", None, "2026-01", True),  # a bound of a month: the whole month
    ("2026-02-01", None, "2026-01", False),
    ("2026-01-09", "2026-01-10", None, False),
    ("2026-01-10", "2026-01-10", "2026-01-10", True),
    (None, "2026", None, False),  # undated: fails any date condition
    ("--12-18", None, "2026", False),  # no year
    (None, None, None, True),
])
def test_a_date_meets_a_range_it_overlaps(date, date_from, date_to, expected):
    assert date_accepted(Filter(date_from=date_from, date_to=date_to), date) is expected
