"""Merges of real segments: deletes dropped and carried over, IVF lists reused, shared or trained anew, a full disk
given up cleanly (the policy on numbers: test_merge_policy.py)."""

import errno
import os

import numpy as np
import pytest

from index.builder import build_index
from index.check import check_index, removable
from index.commits import read_current
from index.merge import MergeSpaceError, merge_segments, run_merges
from index.models import Article
from index.snapshot import open_snapshot
from index.tokenize import tokenizer_from
from index.writer import apply_update

def article(i: int, words: str = "职工培训") -> Article:
    return Article(f"m{i}", f"第{i}篇{words}", (f"第{i}篇讲{words}的第一段。", f"第{i}篇的第二段说驿站。"))


@pytest.fixture
def written(settings, tiny_articles, fake_encoder):
    """The tiny index, then six one-article writes: seven segments; m0 replaced, m1 deleted."""
    tokenizer = tokenizer_from(settings)
    build_index(settings.index_dir, tiny_articles, tokenizer, fake_encoder, ["tiny"], quiet=True)
    for i in range(5):
        apply_update(settings.index_dir, [article(i)], [], tokenizer, fake_encoder)
    apply_update(settings.index_dir, [article(0, "安全生产")], ["m1"], tokenizer, fake_encoder)
    return settings


def state(settings, encoder):
    snapshot = open_snapshot(settings.index_dir, encoder.config(), tokenizer_from(settings).config())
    return snapshot, {p.id: p.text for p in snapshot.live_paragraphs()}


def test_a_merge_drops_deleted_rows_and_changes_no_answer(written, fake_encoder):
    from search.engine import open_searcher

    before_snapshot, before = state(written, fake_encoder)
    searcher = open_searcher(written, fake_encoder)
    queries = ["职工培训", "驿站", "安全生产", "外卖配送员"]
    answers = {q: searcher.search(q, "hybrid", k=20) for q in queries}
    assert len(before_snapshot.views) == 7
    assert run_merges(written.index_dir, everything=True) == 1
    snapshot, after = state(written, fake_encoder)
    assert after == before and len(snapshot.views) == 1 and not snapshot.views[0].deleted_rows
    merged = open_searcher(written, fake_encoder)
    for q in queries:
        got = merged.search(q, "hybrid", k=20)
        assert [(h.paragraph.id, round(h.score, 9)) for h in got.hits] == \
            [(h.paragraph.id, round(h.score, 9)) for h in answers[q].hits], q
    assert check_index(written.index_dir)[1] == [] and removable(written.index_dir) == []


def test_source_and_date_come_from_the_columns_as_the_paragraphs_hold_them(written, fake_encoder):
    dated = [Article("d0", "三月", ("三月的第一段。", "三月的第二段。"), source="第3版", date="2025-03-01"),
             Article("d1", "年末", ("没有年份的一段。",), source="第4版", date="--12-18")]
    apply_update(written.index_dir, dated, [], tokenizer_from(written), fake_encoder)
    for merged in (False, True):
        if merged:
            run_merges(written.index_dir, everything=True)
        snapshot, live = state(written, fake_encoder)
        paragraphs = list(snapshot.live_paragraphs())
        assert len(paragraphs) == len(live) and {p.date for p in paragraphs} == {None, "2025-03-01", "--12-18"}
        assert all(snapshot.source_and_date(p.id) == (p.source, p.date) for p in paragraphs)
        assert snapshot.source_and_date("m1.p000") is None and snapshot.paragraph("m1.p000") is None
        # many at once, in the order asked, across segments (before the merge), a deleted and an unknown id None
        asked = [p.id for p in reversed(paragraphs)] + ["m1.p000", "nobody.p000", paragraphs[0].id]
        assert snapshot.sources_and_dates(asked) == [snapshot.source_and_date(pid) for pid in asked]
        assert (len(snapshot.views) == 1) == merged and snapshot.sources_and_dates([]) == []


def test_check_reads_every_paragraph_a_segment_opens_without(written):
    path = sorted(written.index_dir.glob("seg-*/paragraphs.jsonl"))[0]
    lines = path.read_bytes().splitlines(keepends=True)
    assert check_index(written.index_dir)[1] == [] and b'"text": "' in lines[1]
    path.write_bytes(b"".join([lines[0], lines[1].replace(b'"text": "', b'"text": '), *lines[2:]]))
    problems = check_index(written.index_dir)[1]
    assert len(problems) == 1 and "paragraphs.jsonl cannot be read at rows 1" in problems[0]


def test_columns_are_read_or_computed_alike_and_checked_against_the_articles(written, fake_encoder):
    from index.store.columns import Columns
    from index.store.segment import Segment, SegmentError

    dated = [Article("d0", "三月", ("三月的一段。",), source="第3版", date="2025-03-01"),
             Article("d1", "四月", ("四月的一段。",), source="第4版", date="2025-04-01")]
    apply_update(written.index_dir, dated, [], tokenizer_from(written), fake_encoder)
    folder = written.index_dir / read_current(written.index_dir)[1].segments[-1].name
    saved = Segment.open(folder).columns
    assert saved.dates == ("2025-03-01", "2025-04-01") and list(saved.date_codes) == [0, 1]
    (folder / "columns.json").unlink()
    assert Segment.open(folder).columns.equals(saved) and check_index(written.index_dir)[1] == []
    Columns(saved.sources, saved.source_codes, saved.dates, saved.date_codes[::-1].copy()).save(folder)
    problems = check_index(written.index_dir)[1]
    assert len(problems) == 1 and "columns.json does not hold" in problems[0]
    (folder / "columns.json").write_text('{"sources": []}')
    with pytest.raises(SegmentError, match="cannot read the columns of segment"):
        Segment.open(folder)


def test_deletes_made_while_a_merge_runs_are_carried_over(written, fake_encoder):

    tokenizer = tokenizer_from(written)
    _, manifest = read_current(written.index_dir)

    def write_meanwhile(stage: str) -> None:
        if stage == "merge-written":  # the merged segment is written, not yet committed
            apply_update(written.index_dir, [article(9)], ["m2", "a1"], tokenizer, fake_encoder)

    merge_segments(written.index_dir, [s.name for s in manifest.segments], checkpoint=write_meanwhile)
    snapshot, live = state(written, fake_encoder)
    assert len(snapshot.views) == 2  # the merged segment, and the write's own, committed during the merge
    assert snapshot.article("m2") is None and snapshot.article("a1") is None and snapshot.article("m9") is not None
    merged = snapshot.views[0]
    assert {merged.segment.ids[r].rsplit(".p", 1)[0] for r in merged.deleted_rows} == {"m2", "a1"}
    assert not any(pid.startswith(("m2.", "a1.")) for pid in live)
    assert check_index(written.index_dir)[1] == []


def test_a_merge_with_nothing_left_alive_just_drops_its_segments(settings, fake_encoder):
    tokenizer = tokenizer_from(settings)
    build_index(settings.index_dir, [article(0)], tokenizer, fake_encoder, ["t"], quiet=True)
    apply_update(settings.index_dir, [article(1)], [], tokenizer, fake_encoder)
    apply_update(settings.index_dir, [], ["m1"], tokenizer, fake_encoder)
    _, manifest = read_current(settings.index_dir)
    merge_segments(settings.index_dir, [manifest.segments[1].name])
    _, after = read_current(settings.index_dir)
    assert [s.name for s in after.segments] == [manifest.segments[0].name] and after.articles == 1


def test_ivf_lists_are_reused_while_due(settings, fake_encoder):
    """ann_threshold 40: the first segment is IVF; merging 20 more rows into it keeps its lists, 90 more trains anew."""
    from index.shared_lists import lists_owner

    tokenizer = tokenizer_from(settings)
    many = [Article(f"v{i}", f"标题{i}", (f"第{i}段讲职工培训和驿站{i % 7}。",)) for i in range(60)]
    build_index(settings.index_dir, many, tokenizer, fake_encoder, ["t"], quiet=True, ann_threshold=40)
    _, manifest = read_current(settings.index_dir)
    assert manifest.segments[0].vector_index.startswith("ivf") and manifest.segments[0].trained_rows == 60
    more = [Article(f"w{i}", f"标题{i}", (f"第{i}段讲安全生产{i % 5}。",)) for i in range(20)]
    apply_update(settings.index_dir, more, [], tokenizer, fake_encoder, ann_threshold=40)
    run_merges(settings.index_dir, everything=True, ann_threshold=40)
    _, merged = read_current(settings.index_dir)
    assert merged.segments[0].trained_rows == 60 and merged.segments[0].rows == 80  # lists kept: 80 <= 2 x 60
    for batch in range(3):  # three segments of 30 rows: under the threshold, searched exactly
        lots = [Article(f"x{batch}-{i}", f"标题{i}", (f"第{i}段讲劳模工匠{i % 9}。",)) for i in range(30)]
        apply_update(settings.index_dir, lots, [], tokenizer, fake_encoder, ann_threshold=40)
    _, written = read_current(settings.index_dir)
    assert [s.vector_index for s in written.segments[1:]] == ["exact"] * 3
    run_merges(settings.index_dir, everything=True, ann_threshold=40)
    _, again = read_current(settings.index_dir)
    assert again.segments[0].trained_rows == 170  # 170 > 2 x 60: trained anew
    assert lists_owner([], 100, 40) is None


def test_a_merged_segment_below_the_threshold_is_filed_under_the_index_lists(settings, fake_encoder, monkeypatch):
    """Two written segments of 15 rows (exact) merge into one of 30: below ann_threshold 40 but past the shared-lists
    size (20 here), it takes the 60-row IVF segment's lists, paragraphs and sentences, and searches find its rows as
    exact search does; `zhsearch check` passes."""
    import index.shared_lists as shared_lists
    from index.settings import Settings
    from search.engine import open_searcher
    from search.filters import NO_FILTER

    monkeypatch.setattr(shared_lists, "SHARED_LISTS_ROWS", 20)
    tokenizer = tokenizer_from(settings)
    many = [Article(f"v{i}", f"标题{i}", (f"第{i}段讲职工培训和驿站{i % 7}。第二句讲技能{i}。",)) for i in range(60)]
    build_index(settings.index_dir, many, tokenizer, fake_encoder, ["t"], quiet=True, ann_threshold=40)
    for batch in range(2):
        lots = [Article(f"x{batch}-{i}", f"标题{i}", (f"第{i}段讲劳模工匠{i % 9}。又一句讲{batch}号班组。",))
                for i in range(15)]
        apply_update(settings.index_dir, lots, [], tokenizer, fake_encoder, ann_threshold=40)
    _, written = read_current(settings.index_dir)
    base = written.segments[0]
    assert [s.vector_index for s in written.segments[1:]] == ["exact", "exact"]  # 15 rows: under 20
    merge_segments(settings.index_dir, [s.name for s in written.segments[1:]], ann_threshold=40)
    _, merged = read_current(settings.index_dir)
    new = merged.segments[-1]
    assert (new.rows, new.vector_index, new.trained_rows) == (30, base.vector_index, base.trained_rows)
    snapshot = open_snapshot(settings.index_dir, fake_encoder.config(), tokenizer.config())
    segment = snapshot.views[-1].segment
    assert segment.vectors.kind == base.vector_index and segment.sentences.store.kind.startswith("ivf")
    assert segment.sentences.store.kind == snapshot.views[0].segment.sentences.store.kind
    for mine, theirs in ((segment.vectors, snapshot.views[0].segment.vectors),
                         (segment.sentences.store, snapshot.views[0].segment.sentences.store)):
        assert np.array_equal(centroids(mine.index), centroids(theirs.index))  # the very lists, not trained anew
    assert check_index(settings.index_dir)[1] == []
    served = Settings(index_dir=settings.index_dir, cache_dir=settings.cache_dir)
    exact = served.model_copy(update={"ivf_nprobe": 1 << 30, "sentence_nprobe": 1 << 30})
    queries = fake_encoder.encode_queries(["劳模工匠3", "0号班组", "职工培训和驿站"])
    found = open_searcher(served, fake_encoder).corpus.dense(queries, 10, NO_FILTER)
    assert found == open_searcher(exact, fake_encoder).corpus.dense(queries, 10, NO_FILTER)
    big = [Article(f"y{i}", f"标题{i}", (f"第{i}段讲安全生产{i % 5}。",)) for i in range(25)]  # one write, 25 rows
    apply_update(settings.index_dir, big, [], tokenizer, fake_encoder, ann_threshold=40)
    _, after = read_current(settings.index_dir)
    assert (after.segments[-1].rows, after.segments[-1].vector_index) == (25, base.vector_index)


def centroids(index) -> np.ndarray:
    import faiss

    quantizer = faiss.extract_index_ivf(index).quantizer
    return faiss.rev_swig_ptr(faiss.downcast_index(quantizer).get_xb(), quantizer.ntotal * quantizer.d).copy()


def test_a_merge_without_room_is_not_started_and_one_that_fills_the_disk_gives_up(written, monkeypatch):
    import shutil as shutil_module

    import index.merge as merge

    before = read_current(written.index_dir)
    listing = sorted(p.name for p in written.index_dir.iterdir())
    real = shutil_module.disk_usage
    monkeypatch.setattr(merge.shutil, "disk_usage", lambda path: real(path)._replace(free=1000))
    with pytest.raises(MergeSpaceError, match="needs about"):
        run_merges(written.index_dir, everything=True)
    monkeypatch.undo()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(merge, "write_vectors", full)
    with pytest.raises(MergeSpaceError, match="filled up"):
        run_merges(written.index_dir, everything=True)
    assert read_current(written.index_dir) == before
    assert sorted(p.name for p in written.index_dir.iterdir()) == listing
    monkeypatch.undo()
    assert run_merges(written.index_dir, everything=True) == 1  # retried later: it runs


def test_an_article_replaced_or_deleted_and_added_again_mid_merge_is_its_latest_version(written, fake_encoder):
    tokenizer = tokenizer_from(written)
    _, manifest = read_current(written.index_dir)

    def write_meanwhile(stage: str) -> None:
        if stage == "merge-written":
            apply_update(written.index_dir, [article(3, "劳模工匠")], [], tokenizer, fake_encoder)  # replaced
            apply_update(written.index_dir, [], ["m4"], tokenizer, fake_encoder)
            apply_update(written.index_dir, [article(4, "法律援助")], [], tokenizer, fake_encoder)  # and back

    merge_segments(written.index_dir, [s.name for s in manifest.segments], checkpoint=write_meanwhile)
    snapshot, live = state(written, fake_encoder)
    assert snapshot.article("m3").title == "第3篇劳模工匠" and snapshot.article("m4").title == "第4篇法律援助"
    assert [p.text for p in snapshot.article_paragraphs("m3")] == [t for t in article(3, "劳模工匠").paragraphs]
    assert sum(1 for pid in live if pid.startswith("m3.")) == 2 and sum(1 for pid in live if pid.startswith("m4.")) == 2
    assert check_index(written.index_dir)[1] == []
