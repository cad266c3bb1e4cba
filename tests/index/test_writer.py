"""Live updates at the index level: one writer at a time, unknown deletes change nothing."""

import multiprocessing

import pytest

from index.builder import build_index
from index.check import check_index
from index.generations import WriterBusyError, current_generation, write_lock
from index.models import Article
from index.tokenize import tokenizer_from
from index.writer import apply_update


@pytest.fixture
def built(settings, tiny_articles, fake_encoder):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    return settings


def hold_lock(index_dir, ready, release):
    with write_lock(index_dir):
        ready.set()
        release.wait(30)


def test_second_writer_in_another_process_gets_a_clear_error(built, fake_encoder):
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=hold_lock, args=(built.index_dir, ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        before = current_generation(built.index_dir)
        with pytest.raises(WriterBusyError, match="another writer"):
            apply_update(built.index_dir, [Article("n", "新", ("正文。",))], [], tokenizer_from(built),
                         fake_encoder, lock_timeout=0.3)
        assert current_generation(built.index_dir) == before
    finally:
        release.set()
        holder.join(30)
    apply_update(built.index_dir, [Article("n", "新", ("正文。",))], [], tokenizer_from(built), fake_encoder)
    assert check_index(built.index_dir)[1] == []


def test_unknown_delete_changes_nothing(built, fake_encoder):
    before = current_generation(built.index_dir)
    with pytest.raises(KeyError):
        apply_update(built.index_dir, [], ["missing"], tokenizer_from(built), fake_encoder)
    assert current_generation(built.index_dir) == before


def test_updates_keep_sentence_vectors_in_step(settings, fake_encoder):
    from index.snapshot import open_snapshot

    two = Article("m", "两句", ("第一句说的是培训的事情。第二句说的是驿站的事情。",))
    three = Article("m", "三句", ("第一句说的是培训的事情。第二句说的是驿站的事情。第三句说的是食堂。",))
    build_index(settings.index_dir, [two, Article("o", "一句", ("只有一句话的段落在这里。",))],
                tokenizer_from(settings), fake_encoder, ["t"], quiet=True)
    tokenizer = tokenizer_from(settings)

    def sentence_ids():
        snapshot = open_snapshot(settings.index_dir, fake_encoder.config(), tokenizer.config())
        return snapshot.manifest.sentences, snapshot.sentences.store.ids

    assert sentence_ids() == (2, ["m.p000"] * 2)
    apply_update(settings.index_dir, [three], [], tokenizer, fake_encoder)  # replaced: 2 rows out, 3 in
    assert sentence_ids() == (3, ["m.p000"] * 3)
    apply_update(settings.index_dir, [], ["m"], tokenizer, fake_encoder)
    assert sentence_ids() == (0, [])
    assert check_index(settings.index_dir)[1] == []
