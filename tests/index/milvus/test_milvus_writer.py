"""Writes to a Milvus corpus against the same writes to the embedded index: the same documents, stories, statistics
and matches after adds, replacements, deletes and a reprint; an unknown delete failing alone; a commit cut short
repaired by the next one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.ingest.paragraphs import split_article
from index.ingest.sources import read_sources
from index.commits import WriterBusyError
from index.milvus.connection import MilvusUnavailableError, connect
from index.milvus.record import read_meta, write_meta
from index.milvus.writer import MilvusWriter
from index.models import Article, UnknownArticleError
from index.tokenize import tokenizer_from
from index.update import prepare
from index.writer import commit_prepared
from milvus_setup import drop_corpus, export_corpus, milvus_settings
from search.engine import open_searcher
from search.filters import NO_FILTER, Filter

ROOT = Path(__file__).resolve().parents[3]
QUERIES = ["外卖配送员", "职工 培训", "工会为职工办实事", "劳模工匠", "冬季 安全生产", '"暖心驿站"', "职工 NOT 培训", "title:工会"]
NEW = [Article("n1", "年度工会工作总结", ("全年工会为职工办实事一千件，培训职工两万人次。",), source="new.txt", date="2026"),
       Article("n2", "暖心驿站开进社区", ("工会在社区建起暖心驿站，冬季为户外劳动者提供热水和休息的地方。", "驿站由志愿者值守。"),
               source="new.txt", date="2026-01-12")]


@pytest.fixture
def pair(tmp_path, fake_encoder):
    """(embedded settings, Milvus settings, the seed articles): the seeds indexed and exported, nothing written yet."""
    from conftest import CACHE_DIR
    from index.settings import Settings

    settings = milvus_settings(Settings(index_dir=tmp_path / "index", cache_dir=CACHE_DIR), tmp_path, "writer")
    articles = read_sources([ROOT / "seeds"])
    export_corpus(settings, articles, fake_encoder)
    yield settings.model_copy(update={"backend": "embedded"}), settings, articles
    drop_corpus(settings)


def both_commit(pair, fake_encoder, batch):
    """Commit the same prepared updates to both; the outcomes of each."""
    embedded, milvus, _ = pair
    tokenizer = tokenizer_from(embedded)
    _, expected = commit_prepared(embedded.index_dir, batch, tokenizer, fake_encoder.config())
    conn = connect(milvus)
    try:
        found = MilvusWriter(conn, tokenizer, fake_encoder.config()).commit(batch)
    finally:
        conn.close()
    return expected, found


def assert_same_corpus(pair, fake_encoder):
    embedded, milvus, _ = pair
    e = open_searcher(embedded, fake_encoder).corpus
    m = open_searcher(milvus, fake_encoder).corpus
    live = sorted(e.live_paragraphs(), key=lambda p: p.id)
    assert sorted(m.live_paragraphs(), key=lambda p: p.id) == live
    for aid in sorted({p.article_id for p in live}):
        assert m.article_paragraphs(aid) == e.article_paragraphs(aid)
        assert (m.story(aid), m.copies(aid)) == (e.story(aid), e.copies(aid))
    assert m.sources() == e.sources()
    assert (m.info.articles, m.info.paragraphs) == (e.info.articles, e.info.paragraphs)
    assert m.stats.averages == pytest.approx(e.collection.average, rel=1e-12)  # the live statistics, exactly
    words = ["工会", "职工", "驿站", "培训", "安全"]
    assert m.term_weights(words) == pytest.approx(e.term_weights(words), rel=1e-12)  # document frequencies, exactly
    searcher = open_searcher(embedded, fake_encoder)
    for query in QUERIES:
        parsed = searcher.bm25.query(query)
        for flt in (NO_FILTER, Filter(source="new.txt"), Filter(date_from="2026-01")):
            expected, total = e.bm25(parsed, 1000, flt)
            found, found_total = m.bm25(parsed, 1000, flt)
            assert found_total == total
            assert [p for p, _ in found] == [p for p, _ in expected]  # parts made at older averages, retargeted
            np.testing.assert_allclose([s for _, s in found], [s for _, s in expected], rtol=1e-5)
    vectors = fake_encoder.encode_queries(QUERIES)
    for got, want in zip(m.dense(vectors, 10, NO_FILTER), e.dense(vectors, 10, NO_FILTER)):
        assert [p for p, _ in got] == [p for p, _ in want]
    return e, m


def test_writes_land_as_in_the_index(pair, fake_encoder):
    embedded, milvus, articles = pair
    first, replaced, deleted = articles[0], articles[3], articles[5]
    reprint = Article("reprint", "（转载）" + first.title, ("（本报讯）" + first.paragraphs[0], *first.paragraphs[1:]),
                      source="other.txt", date="2026-01-12")
    shorter = Article(replaced.id, "换了标题", ("这篇文章被整篇替换成新的内容，讲职工培训。",), source=replaced.source)
    batch = [prepare(NEW + [reprint], [], fake_encoder, True), prepare([shorter], [deleted.id], fake_encoder, True),
             prepare([], ["no-such-article"], fake_encoder, True),
             prepare([Article("brief", "短讯", ("一条很快被删掉的短讯。",))], [], fake_encoder, True),
             prepare([], ["brief"], fake_encoder, True)]
    expected, found = both_commit(pair, fake_encoder, batch)
    assert [type(x) for x in found] == [type(x) for x in expected] == [type(None)] * 2 + [UnknownArticleError] + [type(None)] * 2
    e, m = assert_same_corpus(pair, fake_encoder)
    assert m.copies("reprint") == [first.id] and m.article(deleted.id) is None and m.article("brief") is None
    assert m.article(replaced.id).title == "换了标题" and len(m.article_paragraphs(replaced.id)) == 1
    assert m.info.version == "2"
    # the old version's sentences are gone with it
    assert m.info.sentences == read_meta(m.conn)[1].sentences


def test_a_commit_cut_short_is_repaired_by_the_next(pair, fake_encoder, monkeypatch):
    embedded, milvus, articles = pair
    update = prepare(NEW, [articles[2].id], fake_encoder, True)
    real = MilvusWriter._upsert

    def failing(self, kind, rows):
        if kind == "articles":
            raise MilvusUnavailableError("Milvus at test failed to write articles: gone")
        real(self, kind, rows)

    conn = connect(milvus)
    monkeypatch.setattr(MilvusWriter, "_upsert", failing)
    with pytest.raises(MilvusUnavailableError):
        MilvusWriter(conn, tokenizer_from(milvus), fake_encoder.config()).commit([update])
    assert read_meta(conn)[1].pending == 3  # articles in flight: left for the next commit to repair
    monkeypatch.setattr(MilvusWriter, "_upsert", real)
    with pytest.raises(WriterBusyError):  # a commit in flight this recently may be another writer's
        MilvusWriter(conn, tokenizer_from(milvus), fake_encoder.config()).commit([update])
    stats = read_meta(conn)[1]
    write_meta(conn, None, stats.model_copy(update={"pending_since": stats.pending_since - 3600}))  # a crash, long ago
    conn.close()
    both_commit(pair, fake_encoder, [update])  # the client retries: the same update, whole
    assert_same_corpus(pair, fake_encoder)
    conn = connect(milvus)
    assert read_meta(conn)[1].pending == 0
    conn.close()


def test_limits_of_milvus_fields_are_met_or_named(tmp_path, fake_encoder):
    """Thousands of sources, a term longer than a key, an article whose old rows span several pages: all as in the
    index; a text longer than a Milvus field: refused by name before anything is written."""
    from conftest import CACHE_DIR
    from index.milvus.connection import Connection
    from index.milvus.rows import RowTooLargeError, check_sizes
    from index.settings import Settings

    settings = milvus_settings(Settings(index_dir=tmp_path / "index", cache_dir=CACHE_DIR), tmp_path, "limits")
    url = "https://example.com/" + "a" * 1200  # one token to jieba, a key of 1,205 bytes
    many = [Article(f"s{i}", f"第{i}篇", (f"工会第{i}次会议。{url}" if i == 7 else f"工会第{i}次会议。",),
                    source=f"{'很长的来源名称' * 4}-{i:05d}.txt") for i in range(2500)]
    export_corpus(settings, many, fake_encoder)
    try:
        embedded = open_searcher(settings.model_copy(update={"backend": "embedded"}), fake_encoder)
        milvus = open_searcher(settings, fake_encoder)
        assert milvus.corpus.sources() == embedded.corpus.sources() and len(milvus.corpus.sources()) == 2500
        assert [h.paragraph.id for h in milvus.search(url, "bm25", 5).hits] == ["s7.p000"]
        big = Article("big", "长文", tuple(f"第{i}段，工会。" for i in range(12)), source="x")
        conn = connect(settings)
        writer = MilvusWriter(conn, tokenizer_from(settings), fake_encoder.config())
        pages = Connection.rows
        Connection.rows = lambda self, kind, where, fields, what, batch=2000: pages(self, kind, where, fields, what, 5)
        try:  # old rows read five at a time: every one of them found and removed
            assert writer.commit([prepare([big], [], fake_encoder, True)]) == [None]
            assert writer.commit([prepare([], ["big"], fake_encoder, True)]) == [None]
        finally:
            Connection.rows = pages
        assert open_searcher(settings, fake_encoder).corpus.article_paragraphs("big") == []
        assert read_meta(conn)[1].paragraphs == 2500
        long = Article("long", "", ("字" * 70000,))
        with pytest.raises(RowTooLargeError, match="paragraph long.p000 is 210000 bytes"):
            check_sizes([long], split_article(long))
        conn.close()
    finally:
        drop_corpus(settings)
