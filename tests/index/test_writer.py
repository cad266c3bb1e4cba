"""Writes in place: a new segment and tombstones per commit, nothing rewritten, one writer at a time."""

import errno
import multiprocessing
import os
import sys

import pytest

from index.builder import build_index
from index.check import check_index, removable
from index.commits import WriterBusyError, read_current, write_lock
from index.models import Article
from index.snapshot import open_snapshot
from index.tokenize import tokenizer_from
from index import writer
from index.update import prepare
from index.writer import DiskFullError, UnknownArticleError, apply_update, commit_prepared, preload


@pytest.fixture
def built(settings, tiny_articles, fake_encoder):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    return settings


def hold_lock(index_dir, ready, release):
    with write_lock(index_dir):
        ready.set()
        release.wait(30)


def snapshot_of(settings, encoder):
    return open_snapshot(settings.index_dir, encoder.config(), tokenizer_from(settings).config())


def files_and_mtimes(folder):
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def test_second_writer_in_another_process_gets_a_clear_error(built, fake_encoder):
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=hold_lock, args=(built.index_dir, ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        before = read_current(built.index_dir)
        with pytest.raises(WriterBusyError, match="another writer"):
            apply_update(built.index_dir, [Article("n", "新", ("正文。",))], [], tokenizer_from(built),
                         fake_encoder, lock_timeout=0.3)
        assert read_current(built.index_dir) == before
    finally:
        release.set()
        holder.join(30)
    apply_update(built.index_dir, [Article("n", "新", ("正文。",))], [], tokenizer_from(built), fake_encoder)
    assert check_index(built.index_dir)[1] == []


def test_unknown_delete_changes_nothing(built, fake_encoder):
    before = read_current(built.index_dir)
    with pytest.raises(UnknownArticleError):
        apply_update(built.index_dir, [], ["missing"], tokenizer_from(built), fake_encoder)
    assert read_current(built.index_dir) == before


def test_a_write_adds_a_segment_and_rewrites_nothing(built, fake_encoder):
    _, manifest = read_current(built.index_dir)
    first = built.index_dir / manifest.segments[0].name
    before = files_and_mtimes(first)
    new = apply_update(built.index_dir, [Article("a2", "驿站新版", ("新的驿站正文。", "第二段。"))], ["a3"],
                       tokenizer_from(built), fake_encoder)
    assert files_and_mtimes(first) == before  # the old segment is untouched: replaced and deleted rows are tombstones
    assert [s.name for s in new.segments][0] == manifest.segments[0].name and len(new.segments) == 2
    old = new.segments[0]
    assert (old.deleted_rows, old.deleted_articles) == (2, 2)  # a2's one paragraph, a3's one paragraph
    assert (new.articles, new.paragraphs) == (2, 4)
    snapshot = snapshot_of(built, fake_encoder)
    assert snapshot.article("a3") is None and snapshot.article("a2").title == "驿站新版"
    assert [p.text for p in snapshot.article_paragraphs("a2")] == ["新的驿站正文。", "第二段。"]
    assert check_index(built.index_dir)[1] == [] and removable(built.index_dir) == []


def test_updates_keep_sentence_vectors_in_step(settings, fake_encoder):
    two = Article("m", "两句", ("第一句说的是培训的事情。第二句说的是驿站的事情。",))
    three = Article("m", "三句", ("第一句说的是培训的事情。第二句说的是驿站的事情。第三句说的是食堂。",))
    build_index(settings.index_dir, [two, Article("o", "一句", ("只有一句话的段落在这里。",))],
                tokenizer_from(settings), fake_encoder, ["t"], quiet=True)
    tokenizer = tokenizer_from(settings)

    def sentences():
        snapshot = snapshot_of(settings, fake_encoder)
        return [(list(v.segment.sentences.store.ids), sorted(v.deleted_rows)) for v in snapshot.views]

    assert sentences() == [(["m.p000"] * 2, [])]
    apply_update(settings.index_dir, [three], [], tokenizer, fake_encoder)  # replaced: old row tombstoned
    assert sentences() == [(["m.p000"] * 2, [0]), (["m.p000"] * 3, [])]
    apply_update(settings.index_dir, [], ["m"], tokenizer, fake_encoder)
    assert sentences() == [(["m.p000"] * 2, [0]), (["m.p000"] * 3, [0])]
    assert check_index(settings.index_dir)[1] == []


def test_a_batch_commits_in_order_and_a_bad_delete_fails_alone(built, fake_encoder):
    tokenizer = tokenizer_from(built)
    batch = [
        prepare([Article("x", "一", ("第一版。",))], [], fake_encoder, True),
        prepare([], ["nobody"], fake_encoder, True),
        prepare([Article("x", "二", ("第二版。",))], ["a1"], fake_encoder, True),
        prepare([], ["x"], fake_encoder, True),
        prepare([Article("y", "三", ("留下的。",))], ["x"], fake_encoder, True),  # x is deleted already: fails
    ]
    manifest, outcomes = commit_prepared(built.index_dir, batch, tokenizer, fake_encoder.config())
    assert [type(o).__name__ if o else None for o in outcomes] == [None, "UnknownArticleError", None, None,
                                                                    "UnknownArticleError"]
    assert manifest.generation == 2  # one commit for the whole batch
    snapshot = snapshot_of(built, fake_encoder)
    assert snapshot.article("x") is None and snapshot.article("a1") is None and snapshot.article("y") is None
    assert {a for a in ("a2", "a3") if snapshot.article(a)} == {"a2", "a3"}
    assert check_index(built.index_dir)[1] == []


def test_a_full_disk_answers_with_the_space_needed_and_leaves_nothing(built, fake_encoder, monkeypatch):
    import index.writer as writer

    before = read_current(built.index_dir)
    listing = sorted(p.name for p in built.index_dir.iterdir())

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(writer, "write_vectors", no_space)
    with pytest.raises(DiskFullError, match=r"needs about .* MB .* free"):
        apply_update(built.index_dir, [Article("n", "新", ("正文。",))], [], tokenizer_from(built), fake_encoder)
    assert read_current(built.index_dir) == before
    assert sorted(p.name for p in built.index_dir.iterdir()) == listing
    monkeypatch.undo()
    apply_update(built.index_dir, [Article("n", "新", ("正文。",))], [], tokenizer_from(built), fake_encoder)
    assert snapshot_of(built, fake_encoder).article("n") is not None


def test_preload_reads_what_the_first_write_would(built, fake_encoder):
    """A service that takes writes loads each segment's catalogue and marks, and the hasher, before any write."""
    apply_update(built.index_dir, [Article("n", "新", ("正文。",))], [], tokenizer_from(built), fake_encoder)
    for cache in (writer._CATALOG, writer._DUPLICATES):
        cache.forget(set())
    preload(built.index_dir)
    segments = {s.name for s in read_current(built.index_dir)[1].segments}
    assert len(segments) == 2
    assert set(writer._CATALOG._found) == set(writer._DUPLICATES._found) == segments
    assert "datasketch" in sys.modules


def test_preload_without_a_readable_index_loads_nothing_more(tmp_path):
    """Opening the index says what is wrong with it; preloading stays quiet."""
    (tmp_path / "CURRENT").write_text("commit-missing.json")
    preload(tmp_path)
    preload(tmp_path / "absent")


def test_a_prepared_write_is_tokenised_before_the_lock(built, fake_encoder, monkeypatch):
    """With the tokenizer, prepare tokenises every title and paragraph; the commit (under the lock) runs no jieba,
    and once it is done the tokenizer keeps none of the write's tokens (a feed would grow the heaps)."""
    tokenizer = tokenizer_from(built)
    article = Article("fresh", "全新的标题词", ("第一段讲述夜校开课。", "第二段说明工匠学院招生。"))
    update = prepare([article], [], fake_encoder, True, tokenizer)
    assert set(update.tokens) == {article.title, *article.paragraphs}
    calls = []
    real = tokenizer._tokenize
    monkeypatch.setattr(tokenizer, "_tokenize", lambda text: calls.append(text) or real(text))
    commit_prepared(built.index_dir, [update], tokenizer, fake_encoder.config())
    assert calls == []
    assert snapshot_of(built, fake_encoder).article("fresh") is not None
    assert not tokenizer._pinned and all(tokenizer._recent.get(text) is None for text in update.tokens)
