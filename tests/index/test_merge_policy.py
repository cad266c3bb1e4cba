"""The merge policy on numbers: tiers, folds, deleted rows, max_rows, and which trained lists a new segment takes;
run_merges choosing past a fold that does not fit the disk."""

import pytest

from index.manifest import SegmentInfo
from index.merge import MergeSpaceError
from index.merge_policy import MergePolicy, choose_merge, merge_all, tier

POLICY = MergePolicy(floor=10, per_tier=4, max_rows=10_000, max_deleted=0.25)


def info(name: str, rows: int, deleted: int = 0) -> SegmentInfo:
    return SegmentInfo(name=name, rows=rows, articles=rows, deleted_rows=deleted)


def test_tiers_count_small_segments_as_the_floor():
    assert [tier(n, POLICY) for n in (0, 1, 10, 39, 40, 159, 160, 640)] == [0, 0, 0, 0, 1, 1, 2, 3]


def test_a_full_tier_merges_its_smallest_in_commit_order():
    segments = [info("big", 5000), info("a", 3), info("b", 1), info("c", 7), info("d", 2), info("e", 5)]
    assert choose_merge(segments, POLICY) == ["a", "b", "d", "e"]  # the four smallest of tier 0
    assert choose_merge(segments[:4], POLICY) == []  # three in the tier: not yet


def test_fresh_segments_are_folded_into_the_largest_ivf_one_at_their_share():
    def ivf(name: str, rows: int) -> SegmentInfo:
        return SegmentInfo(name=name, rows=rows, articles=rows, vector_index="ivf1264", trained_rows=rows)

    policy = MergePolicy(floor=10, per_tier=4, max_rows=200_000, fold_share=0.05)
    fresh = [info("a", 3_000), info("b", 1_000), info("c", 900)]
    assert choose_merge([ivf("big", 100_000), *fresh], policy) == []  # 4,900 rows: under 5 %
    assert choose_merge([ivf("big", 100_000), *fresh, info("d", 100)], policy) == ["big", "a", "b", "c", "d"]
    assert choose_merge([info("big", 100_000), *fresh, info("d", 100)], policy) == []  # no IVF: a small index
    # a second large segment (over twice the share) is not fresh; nor does a fold pass max_rows
    assert choose_merge([ivf("big", 100_000), ivf("other", 30_000), *fresh, info("d", 100)], policy) == \
        ["big", "a", "b", "c", "d"]
    assert choose_merge([ivf("big", 196_000), *fresh, info("d", 5_000)], policy) == []
    # fresh by the size the fold makes: x (over 10 % of 100,000, under 10 % of the fold's 115,200) goes in now,
    # or it would be fresh, and alone over 5 %, right after: a second rewrite of the large segment at once
    assert choose_merge([ivf("big", 100_000), info("x", 10_200), *fresh, info("d", 100)], policy) == \
        ["big", "x", "a", "b", "c", "d"]
    assert choose_merge([ivf("big", 115_200), info("y", 11_600)], policy) == []


def test_a_fold_without_room_lets_the_other_merges_run_then_says_so(monkeypatch):
    """run_merges: the fold does not fit the disk; the deleted-rows rewrite after it in the policy's order still
    runs, and the space error is raised once nothing else is due."""
    from types import SimpleNamespace

    import index.merge as merge

    big = SegmentInfo(name="big", rows=100_000, articles=100_000, vector_index="ivf1264", trained_rows=100_000)
    segments = [big, info("a", 3_000), info("b", 2_000), info("old", 600, deleted=300)]
    ran = []

    def fake_merge(index_dir, names, ann_threshold, checkpoint):
        if "big" in names:
            raise MergeSpaceError("no room")
        ran.append(names)
        segments[:] = [s for s in segments if s.name not in names]
        return object()

    monkeypatch.setattr(merge, "read_current", lambda index_dir: ("c", SimpleNamespace(segments=list(segments))))
    monkeypatch.setattr(merge, "merge_segments", fake_merge)
    with pytest.raises(MergeSpaceError):
        merge.run_merges("unused", MergePolicy(floor=10, per_tier=4, max_rows=200_000, fold_share=0.05))
    assert ran == [["old"]]


def test_deleted_rows_are_reclaimed_past_the_threshold():
    assert choose_merge([info("big", 5000, deleted=1000), info("x", 20)], POLICY) == []
    assert choose_merge([info("big", 5000, deleted=1300), info("x", 20)], POLICY) == ["big"]


def test_no_merge_grows_past_max_rows():
    segments = [info(f"s{i}", 4000) for i in range(4)]
    assert choose_merge(segments, POLICY) == ["s0", "s1"]  # 3 x 4000 would pass 10,000
    assert choose_merge([info("huge", 40_000, deleted=20_000)], POLICY) == []  # optimize only: too big to rewrite
    assert merge_all([info("one", 10)]) == [] and merge_all([info("one", 10, deleted=1)]) == ["one"]


def test_the_index_lists_serve_segments_past_the_shared_size_within_reuse():
    from index.shared_lists import REUSE_LISTS, SHARED_LISTS_ROWS, lists_owner

    ivf = SegmentInfo(name="big", rows=100_000, articles=40_000, vector_index="ivf1264", trained_rows=100_000)
    other = SegmentInfo(name="mid", rows=30_000, articles=9_000, vector_index="ivf692", trained_rows=30_000)
    small = info("small", 300)
    assert lists_owner([ivf, small], SHARED_LISTS_ROWS, 20_000) is None  # small: exact, searched in the tail
    assert lists_owner([ivf, other, small], SHARED_LISTS_ROWS + 1, 20_000) == ivf  # the lists trained on most rows
    assert lists_owner([small], 5_000, 20_000) is None  # no trained lists: exact below the threshold
    assert lists_owner([ivf], REUSE_LISTS * 100_000, 20_000) == ivf
    assert lists_owner([ivf], REUSE_LISTS * 100_000 + 1, 20_000) is None  # too many rows for them: trained anew
