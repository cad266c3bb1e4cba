"""A segment's compact article catalogue answers as the dict it is built from."""

import pytest
from hypothesis import given, strategies as st

from index.store.docs.article_rows import ArticleRows

IDS = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12)  # any text: NUL, CJK, prefixes of others
RANGES = st.dictionaries(IDS, st.tuples(st.integers(0, 10**9), st.integers(0, 500)).map(list), max_size=40)


@given(RANGES, st.lists(IDS, max_size=20), st.booleans())
def test_lookups_equal_the_dicts(ranges, others, collide):
    hasher = (lambda text: len(text) % 3) if collide else hash  # collide: most ids share a hash
    rows = ArticleRows(ranges, hasher)
    assert len(rows) == len(ranges)
    for article_id, (first, count) in ranges.items():
        assert article_id in rows and rows[article_id] == (first, count)
    for other in others:
        assert (other in rows) == (other in ranges)
        if other not in ranges:
            with pytest.raises(KeyError):
                rows[other]
    assert 7 not in rows  # not a str: not an id
