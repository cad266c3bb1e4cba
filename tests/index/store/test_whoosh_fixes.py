"""The Whoosh fixes: AND NOT whose NOT side starts first, and segment names a reseeded `random` cannot repeat."""

import random

from whoosh.codec.base import Segment as WhooshSegment
from whoosh.matching import ListMatcher
from whoosh.matching.binary import AndNotMatcher

import index.store.bm25_store  # noqa: F401  (installs the fixes)


def test_and_not_drops_a_document_the_not_side_holds_when_it_starts_first():
    assert list(AndNotMatcher(ListMatcher([5, 6, 7]), ListMatcher([3, 5, 6, 7])).all_ids()) == []
    assert list(AndNotMatcher(ListMatcher([5, 6, 8]), ListMatcher([3, 5, 7])).all_ids()) == [6, 8]
    assert list(AndNotMatcher(ListMatcher([1, 4]), ListMatcher([2, 3])).all_ids()) == [1, 4]


def test_segment_names_ignore_a_seeded_random():
    random.seed(0)
    first = WhooshSegment._random_id()
    random.seed(0)
    assert WhooshSegment._random_id() != first
