"""Precomputed BM25 impacts give Whoosh's own rankings and scores (real Whoosh index of the seed pages)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.store.bm25_store import BM25Store
from index.ingest.sources import read_sources
from index.ingest.paragraphs import split_article
from index.tokenize import tokenizer_from
from search.bm25 import BM25Retriever, flat_leaves
from search import bm25_impacts
from search.bm25_impacts import TooManyDocuments, _Scored
from search.filters import Filter

ROOT = Path(__file__).resolve().parents[2]
QUERIES = [
    "外卖配送员", "职工 培训", "工会为职工办实事", "劳模工匠", "新就业形态劳动者权益保障",
    "冬季 安全生产", "职工^3 培训", "天津 工匠学院 直通车", "的", "没有这个词zzz", "中华全国总工会 领导", "title:工会",
]


@pytest.fixture(scope="module")
def retriever(tmp_path_factory) -> BM25Retriever:
    """The seed paragraphs in Whoosh, then an update (a second segment and deletions), as a service sees it."""
    from index.settings import Settings
    from conftest import CACHE_DIR

    tokenizer = tokenizer_from(Settings(cache_dir=CACHE_DIR))
    articles = read_sources([ROOT / "seeds"])
    paragraphs = [p for article in articles for p in split_article(article)]
    folder = tmp_path_factory.mktemp("impacts")
    store = BM25Store.build(folder, tokenizer, paragraphs[:-40])
    deleted = {articles[0].id, articles[3].id}
    store.replace(deleted, paragraphs[-40:])
    found = BM25Retriever(BM25Store.open(folder), tokenizer)
    assert found.wait_ready(60)
    return found


def whoosh_only(retriever: BM25Retriever, query: str, k: int):
    impacts, retriever.impacts = retriever.impacts, None
    try:
        return retriever.search(query, k)
    finally:
        retriever.impacts = impacts


@pytest.mark.parametrize("query", QUERIES)
def test_impacts_rank_and_score_as_whoosh(retriever, query):
    assert flat_leaves(retriever.parse(query)) is not None
    fast, fast_total = retriever.search(query, 50)
    slow, slow_total = whoosh_only(retriever, query, 50)
    assert fast_total == slow_total
    assert [pid for pid, _ in fast] == [pid for pid, _ in slow]
    assert np.allclose([s for _, s in fast], [s for _, s in slow], rtol=1e-6)


def test_deleted_paragraphs_never_come_back(retriever):
    ids = {pid for query in QUERIES for pid, _ in retriever.search(query, 500)[0]}
    assert ids
    live = set(retriever.impacts.ids) - {""}
    assert ids <= live
    whoosh_live = {fields["paragraph_id"] for fields in retriever.store.index.searcher().all_stored_fields()}
    assert live == whoosh_live


def test_ties_and_short_pages_keep_the_id_order(retriever):
    for k in (1, 3, 7):
        fast, _ = retriever.search("的", k)
        full, _ = retriever.search("的", 500)
        assert fast == full[:k]


def test_accumulators_are_clean_and_reused_between_queries(retriever):
    for query in QUERIES:
        retriever.search(query, 10)
    spare = retriever.impacts._spare
    assert len(spare) == 1 and not spare[0].any()


@pytest.mark.parametrize("query", ['"暖心驿站"', "职工 NOT 培训", "职工 AND 培训"])
def test_syntax_beyond_or_goes_to_whoosh(retriever, query):
    assert flat_leaves(retriever.parse(query)) is None
    assert retriever.search(query, 20) == whoosh_only(retriever, query, 20)


def test_filtered_queries_go_to_whoosh(retriever):
    paragraph = retriever.search("职工", 1)[0][0][0]
    article = paragraph.rsplit(".", 1)[0]
    ranked, _ = retriever.search("职工", 50, Filter(article_id=article))
    assert ranked and all(pid.startswith(article + ".") for pid, _ in ranked)


def test_a_term_read_from_two_segments_is_one_slot():
    scored = _Scored()
    scored.add("text", "工会", np.array([0, 2], np.int32), np.array([1.0, 2.0]))
    scored.add("text", "职工", np.array([1], np.int32), np.array([3.0]))
    scored.add("title", "工会", np.array([2], np.int32), np.array([4.0]))
    scored.add("text", "工会", np.array([7], np.int32), np.array([5.0]))  # the next segment
    offsets, docs, scores = scored.flatten()
    slot = scored.slots["text"]["工会"]
    assert docs[offsets[slot]:offsets[slot + 1]].tolist() == [0, 2, 7]
    assert scores[offsets[slot]:offsets[slot + 1]].tolist() == [1.0, 2.0, 5.0]
    assert (len(docs), offsets[-1]) == (5, 5) and scored.chunks == [[], [], []]


def test_an_index_beyond_int32_document_numbers_is_left_to_whoosh(retriever, monkeypatch, caplog):
    monkeypatch.setattr(bm25_impacts, "MAX_DOCS", 10)  # the seed index has hundreds of documents
    with pytest.raises(TooManyDocuments, match="at most 10"):
        bm25_impacts.Impacts.from_index(retriever.store.index, ["title", "text"], bm25_impacts.BM25F())
    fresh = BM25Retriever(retriever.store, retriever.tokenizer)
    assert not fresh.wait_ready(60) and fresh.impacts_state() == "off"
    assert "BM25 impacts could not be read" in caplog.text
    slow, fast = fresh.search("外卖配送员", 5)[0], retriever.search("外卖配送员", 5)[0]
    assert [pid for pid, _ in slow] == [pid for pid, _ in fast]
    assert np.allclose([s for _, s in slow], [s for _, s in fast], rtol=1e-9)
