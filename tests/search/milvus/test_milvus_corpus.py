"""The Milvus backend against the embedded one on the same corpus: an index (with writes, replacements, deletes and
a reprint) exported into Milvus Lite must answer every Corpus question as the index does, rankings and totals
the same, scores to float32 rounding."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from index.builder import build_index
from index.ingest.sources import read_sources
from index.milvus.connection import connect
from index.milvus.export import export_index
from index.models import Article
from index.tokenize import tokenizer_from
from index.writer import apply_update
from search.engine import open_searcher
from search.filters import NO_FILTER, Filter

ROOT = Path(__file__).resolve().parents[3]
QUERIES = ["外卖配送员", "职工 培训", "工会为职工办实事", "劳模工匠", "新就业形态劳动者权益保障", "冬季 安全生产",
           "职工^3 培训", "天津 工匠学院 直通车", "的", "没有这个词zzz", "title:工会", "臺灣 開發"]
SYNTAX = ['"暖心驿站"', '"职工 培训"', "职工 NOT 培训", "职工 AND 培训", "(工会 OR 职工) AND 服务", "NOT 工会",
          '工会 NOT "暖心驿站"', '"工会 职工" OR 培训', "工会 AND source:dated.txt", "article_id:d3 AND 工会",
          "date:2026 AND 职工", "职工 NOT source:dated.txt", "position:0 AND 工会", '"暖心驿站" AND date:2026-01-12']
FILTERS = [NO_FILTER, Filter(date_from="2026"), Filter(date_from="2026-01-05"), Filter(date_to="2026-01"),
           Filter(date_from="2025-12-01", date_to="2026-01-12"), Filter(date_to="2024"), Filter(source="dated.txt"),
           Filter(article_id="d3"), Filter(source="no such source")]
DATED = [Article("d1", "年度工会工作总结", ("全年工会为职工办实事一千件，培训职工两万人次。",), source="dated.txt", date="2026"),
         Article("d2", "一月的职工培训", ("一月份职工培训覆盖全市，外卖配送员也参加了安全培训。",), source="dated.txt",
                 date="2026-01"),
         Article("d3", "暖心驿站开进社区", ("工会在社区建起暖心驿站，冬季为户外劳动者提供热水和休息的地方。",
                                           "驿站由志愿者值守。"), source="dated.txt", date="2026-01-12"),
         Article("d4", "年末安全生产检查", ("冬季安全生产检查覆盖全部企业，职工参与隐患排查。",), source="dated.txt",
                 date="2025-12-31")]


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """(embedded searcher, Milvus searcher) over one corpus: the seeds with writes, exported into Milvus Lite."""
    from conftest import CACHE_DIR
    from fakes import FakeEncoder
    from index.settings import Settings

    folder = tmp_path_factory.mktemp("milvus")
    uri = os.environ.get("ZHSEARCH_TEST_MILVUS_URI") or str(folder / "milvus.db")
    settings = Settings(index_dir=folder / "index", cache_dir=CACHE_DIR, milvus_uri=uri,
                        milvus_collection=f"test_{os.getpid()}", milvus_timeout_s=60)
    tokenizer, encoder = tokenizer_from(settings), FakeEncoder()
    articles = read_sources([ROOT / "seeds"])
    build_index(settings.index_dir, articles, tokenizer, encoder, ["seeds"], quiet=True)
    first = articles[0]
    reprint = Article("reprint", "（转载）" + first.title, ("（本报讯）" + first.paragraphs[0], *first.paragraphs[1:]),
                      source="other.txt", date="2026-01-12")
    apply_update(settings.index_dir, DATED + [reprint], [], tokenizer, encoder)
    apply_update(settings.index_dir, [Article(articles[3].id, "换了标题", ("这篇文章被整篇替换成新的内容，讲职工培训。",),
                                              source=articles[3].source)], [articles[5].id], tokenizer, encoder)
    conn = connect(settings)
    export_index(settings.index_dir, conn, settings.ann_threshold, replace=True, quiet=True)
    embedded = open_searcher(settings, encoder)
    milvus = open_searcher(settings.model_copy(update={"backend": "milvus"}), encoder)
    yield embedded, milvus, articles
    from index.milvus.schema import drop_collections

    drop_collections(conn)
    conn.close()


def assert_same_ranking(expected, found):
    assert [pid for pid, _ in found] == [pid for pid, _ in expected]
    np.testing.assert_allclose([s for _, s in found], [s for _, s in expected], rtol=1e-5)


@pytest.mark.parametrize("query", QUERIES + SYNTAX)
def test_bm25_ranks_and_counts_as_the_index_does(both, query):
    embedded, milvus, _ = both
    parsed = embedded.bm25.query(query)
    for flt in FILTERS:
        for k in (1, 10, 1000):
            expected, total = embedded.corpus.bm25(parsed, k, flt)
            found, found_total = milvus.corpus.bm25(parsed, k, flt)
            assert_same_ranking(expected, found)
            assert found_total == total, (query, flt, k)
        # A ranking cut at several depths (hiding copies fetches deeper): each cut is the same engine's top k
        rankings = embedded.corpus.bm25_ranking(parsed, flt, 1000), milvus.corpus.bm25_ranking(parsed, flt, 1000)
        for k in (1, 10, 1000, 3):
            (expected, total), (found, found_total) = (ranking.cut(k) for ranking in rankings)
            assert (expected, total) == embedded.corpus.bm25(parsed, k, flt)
            assert_same_ranking(expected, found)
            assert found_total == total, (query, flt, k)


def test_dense_ranks_as_the_index_does(both):
    embedded, milvus, _ = both
    vectors = embedded.dense.encoder.encode_queries(QUERIES)
    for flt in FILTERS:
        for k in (1, 10, 30):
            for expected, found in zip(embedded.corpus.dense(vectors, k, flt), milvus.corpus.dense(vectors, k, flt)):
                assert_same_ranking(expected, found)
        assert milvus.corpus.dense_total(flt) == embedded.corpus.dense_total(flt)
    # Deep lists: blended scores are exact for the candidates, and candidates come from each segment of the index
    # (three here) but from the whole collection in Milvus, so the tail of a long list may differ a little.
    for expected, found in zip(embedded.corpus.dense(vectors, 200, NO_FILTER), milvus.corpus.dense(vectors, 200, NO_FILTER)):
        assert len({pid for pid, _ in found} & {pid for pid, _ in expected}) >= 0.95 * len(expected)
        assert [pid for pid, _ in found[:100]] == [pid for pid, _ in expected[:100]]


def test_documents_stories_and_statistics_are_the_index_s(both):
    embedded, milvus, articles = both
    e, m = embedded.corpus, milvus.corpus
    live = sorted(e.live_paragraphs(), key=lambda p: p.id)
    assert sorted(m.live_paragraphs(), key=lambda p: p.id) == live
    assert all(m.paragraph(p.id) == p for p in live)
    assert m.paragraph(articles[5].id + ".p000") is None and m.article(articles[5].id) is None  # deleted
    assert m.article(articles[3].id).title == "换了标题"  # replaced
    for aid in sorted({p.article_id for p in live}):
        assert m.article_paragraphs(aid) == e.article_paragraphs(aid)
        want = e.article(aid)
        assert m.article(aid) == type(want)(**{**want.__dict__, "paragraphs": tuple(p.text for p in e.article_paragraphs(aid))})
        assert (m.story(aid), m.copies(aid)) == (e.story(aid), e.copies(aid))
    assert e.copies("reprint") == [articles[0].id]  # the reprint is marked, so the comparison above means something
    assert m.sources() == e.sources()
    assert (m.info.articles, m.info.paragraphs, m.info.sentences > 0) == (e.info.articles, e.info.paragraphs, True)
    words = ["工会", "职工", "驿站", "没有这个词zzz"]
    assert m.term_weights(words) == pytest.approx(e.term_weights(words), rel=1e-9)
    ids = [p.id for p in live[:20]] + ["no.such.p000"]
    np.testing.assert_array_equal(m.paragraph_vectors(ids), e.paragraph_vectors(ids))
    vector = embedded.dense.encoder.encode_queries(["暖心驿站"])[0]
    found, expected = m.dense_parts(vector, ids), e.dense_parts(vector, ids)
    assert found.keys() == expected.keys()
    for pid, (own, best) in expected.items():
        assert found[pid][0] == pytest.approx(own, rel=1e-5)
        assert (found[pid][1] is None) == (best is None) and (best is None or found[pid][1] == pytest.approx(best, rel=1e-5))


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_searches_through_the_searcher_are_the_same(both, mode):
    from search.views.view import View

    embedded, milvus, _ = both
    for query in QUERIES[:6] + SYNTAX[:3]:
        for view in (View(), View(group="article"), View(sort="date", facets=("source", "month")), View(dedup=False)):
            expected = embedded.search(query, mode, 10, 0, view=view)
            found = milvus.search(query, mode, 10, 0, view=view)
            assert [h.paragraph.id for h in found.hits] == [h.paragraph.id for h in expected.hits]
            assert [a.article_id for a in found.articles] == [a.article_id for a in expected.articles]
            assert [h.similar for h in found.hits] == [h.similar for h in expected.hits]
            assert (found.total, found.facets) == (expected.total, expected.facets)


def test_a_views_sources_and_dates_missing_from_the_cache_are_read_at_once(both, monkeypatch):
    from search.milvus.rows_cache import RowsCache

    embedded, milvus, _ = both
    ids = [p.id for p in embedded.corpus.live_paragraphs()][:60] + ["nobody.p000"]
    corpus = milvus.corpus
    monkeypatch.setattr(corpus, "cache", RowsCache())  # the pool's rows pushed out by other searches
    calls = []
    call = corpus.conn.call
    monkeypatch.setattr(corpus.conn, "call", lambda what, *rest, **kw: calls.append(what) or call(what, *rest, **kw))
    assert corpus.sources_and_dates(ids) == embedded.corpus.sources_and_dates(ids)
    assert calls == ["read a view's paragraphs"]  # one query for the 60 missing (and the unknown id)
    assert corpus.sources_and_dates(ids[:10]) == embedded.corpus.sources_and_dates(ids[:10]) and len(calls) == 1
