"""BM25 over segments: Whoosh's own BM25F scores on a fresh index, and after any writes (with or without a
merge) exactly the scores of a fresh build of the same corpus: the statistics are the live collection's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings as hypothesis_settings
from hypothesis import strategies as st
from whoosh.scoring import BM25F

from index.builder import build_index
from index.ingest.paragraphs import split_article
from index.ingest.sources import read_sources
from index.merge import run_merges
from index.models import Article
from index.store.bm25_store import BM25Store
from index.tokenize import tokenizer_from
from index.writer import apply_update
from search.bm25 import BM25Retriever
from search.embedded.accumulators import Accumulators
from search.query_leaves import flat_leaves
from search.engine import open_searcher
from search.filters import Filter

ROOT = Path(__file__).resolve().parents[3]
QUERIES = [
    "外卖配送员", "职工 培训", "工会为职工办实事", "劳模工匠", "新就业形态劳动者权益保障",
    "冬季 安全生产", "职工^3 培训", "天津 工匠学院 直通车", "的", "没有这个词zzz", "中华全国总工会 领导", "title:工会",
]
SYNTAX = ['"暖心驿站"', "职工 NOT 培训", "职工 AND 培训", "(工会 OR 职工) AND 服务"]


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """The seed pages as our index (fake encoder) and as a plain Whoosh index of the same paragraphs."""
    from conftest import CACHE_DIR
    from fakes import FakeEncoder
    from index.settings import Settings

    settings = Settings(index_dir=tmp_path_factory.mktemp("seeds") / "index", cache_dir=CACHE_DIR)
    articles = read_sources([ROOT / "seeds"])
    build_index(settings.index_dir, articles, tokenizer_from(settings), FakeEncoder(), ["seeds"], quiet=True)
    plain = BM25Store.build(tmp_path_factory.mktemp("whoosh"), tokenizer_from(settings),
                            [p for a in articles for p in split_article(a)])
    return settings, open_searcher(settings, FakeEncoder()), plain


def whoosh_scores(store: BM25Store, retriever: BM25Retriever, query: str) -> dict[str, float]:
    with store.index.searcher(weighting=BM25F()) as searcher:
        return {hit["paragraph_id"]: hit.score for hit in searcher.search(retriever.parse(query), limit=None)}


@pytest.mark.parametrize("query", QUERIES)
def test_flat_queries_score_as_whoosh_does(seeds, query):
    _, searcher, plain = seeds
    assert flat_leaves(searcher.bm25.parse(query)) is not None
    ranked, total = searcher.bm25.search(query, 1000)
    expected = whoosh_scores(plain, searcher.bm25, query)
    assert total == len(expected) == len(ranked)
    assert dict(ranked).keys() == expected.keys()
    assert np.allclose([s for _, s in ranked], [expected[pid] for pid, _ in ranked], rtol=1e-12, atol=0)
    assert ranked == sorted(ranked, key=lambda p: (-p[1], p[0]))


@pytest.mark.parametrize("query", SYNTAX)
def test_syntax_is_matched_by_whoosh_and_scored_by_its_terms(seeds, query):
    _, searcher, plain = seeds
    assert flat_leaves(searcher.bm25.parse(query)) is None
    ranked, total = searcher.bm25.search(query, 1000)
    expected = whoosh_scores(plain, searcher.bm25, query)
    assert dict(ranked).keys() == expected.keys() and total == len(expected)


def test_ties_and_short_pages_keep_the_id_order(seeds):
    _, searcher, _ = seeds
    for k in (1, 3, 7):
        assert searcher.bm25.search("的", k)[0] == searcher.bm25.search("的", 500)[0][:k]


@pytest.mark.parametrize("query", QUERIES)
def test_most_rows_matching_are_ranked_in_the_accumulator_as_a_list_of_them_would_be(seeds, query, monkeypatch):
    import search.embedded.collection as collection

    _, searcher, _ = seeds
    leaves = flat_leaves(searcher.bm25.query(query))
    found = {}
    for mostly in (2.0, 0.0):  # never ranked in place; always, where more rows match than asked for
        monkeypatch.setattr(collection, "MOSTLY", mostly)
        found[mostly] = [searcher.corpus.collection.matches(leaves, k).cut(k) for k in (1, 7, 50, 10_000)]
    assert found[0.0] == found[2.0]


def test_a_query_most_paragraphs_match_is_ranked_in_place_by_default(seeds, monkeypatch):
    import search.embedded.collection as collection

    _, searcher, _ = seeds
    original, calls = collection.best_in_place, []
    monkeypatch.setattr(collection, "best_in_place", lambda acc, k: calls.append(k) or original(acc, k))
    ranked, total = searcher.bm25.search("的", 5)  # a word most paragraphs hold
    assert total >= collection.MOSTLY * searcher.corpus.collection.size and calls == [5] and len(ranked) == 5


def test_accumulators_are_clean_and_reused_between_queries(seeds):
    _, searcher, _ = seeds
    collection = searcher.corpus.collection
    collection.accumulators = pool = Accumulators()
    for query in QUERIES + SYNTAX:
        searcher.bm25.search(query, 10)
    assert len(pool) == 1 and not pool.take(collection.size).base.any()


def test_a_filter_keeps_the_scores_and_only_its_rows(seeds):
    _, searcher, _ = seeds
    full = dict(searcher.bm25.search("职工", 1000)[0])
    article = next(iter(full)).rsplit(".p", 1)[0]
    flt = Filter(article_id=article)
    ranked, _ = searcher.bm25.search("职工", 50, flt)
    assert ranked and all(pid.startswith(article + ".") for pid, _ in ranked)
    assert all(full[pid] == score for pid, score in ranked)


# ---------------------------------------------------------------- after writes, against a fresh build

POOL = [
    ("p0", "工会驿站", ("工会为外卖配送员建起暖心驿站。", "驿站提供热水和充电。")),
    ("p1", "工匠学院", ("工匠学院直通车开到生产一线。",)),
    ("p2", "职工培训", ("职工技能培训特别解渴。", "培训结束后进行了考核。", "职工说收获很大。")),
    ("p3", "劳模工作室", ("劳模工作室带徒传技。",)),
    ("p4", "安全生产", ("冬季安全生产培训进班组。", "安全员讲解防护装备。")),
    ("p5", "法律援助", ("工会法律援助中心为职工讨回加班费。",)),
]
VERSIONS = ["", "（新版）", "（再版，职工驿站）"]
PROBES = ["职工 培训", "工会 驿站", "安全生产", "劳模", "职工", '"暖心驿站"', "职工 NOT 培训", "title:工会"]

ops = st.lists(st.tuples(st.sampled_from(["upsert", "delete"]), st.integers(0, len(POOL) - 1),
                         st.integers(0, len(VERSIONS) - 1)), min_size=1, max_size=6)


def article(n: int, version: int) -> Article:
    aid, title, paragraphs = POOL[n]
    return Article(aid, title + VERSIONS[version], tuple(p + VERSIONS[version] for p in paragraphs))


def all_scores(searcher) -> dict[str, dict[str, float]]:
    return {q: dict(searcher.bm25.search(q, 1000)[0]) for q in PROBES}


def assert_same_scores(got: dict, expected: dict) -> None:
    for query in PROBES:
        assert got[query].keys() == expected[query].keys(), query
        ids = sorted(expected[query])
        assert np.allclose([got[query][i] for i in ids], [expected[query][i] for i in ids], rtol=1e-12, atol=0), query


@hypothesis_settings(max_examples=25)
@example(ops=[("upsert", 4, 0), ("upsert", 2, 0)])  # found Whoosh's AND NOT bug (index/store/whoosh_fixes.py)
@given(ops)
def test_bm25_after_writes_and_a_merge_equals_a_fresh_build(tmp_path_factory, ops):
    from conftest import CACHE_DIR
    from fakes import FakeEncoder
    from index.settings import Settings

    encoder = FakeEncoder()
    live = {0: article(0, 0), 3: article(3, 0)}
    settings = Settings(index_dir=tmp_path_factory.mktemp("written") / "index", cache_dir=CACHE_DIR)
    tokenizer = tokenizer_from(settings)
    build_index(settings.index_dir, list(live.values()), tokenizer, encoder, ["pool"], quiet=True)
    for op, n, version in ops:
        if op == "upsert":
            live[n] = article(n, version)
            apply_update(settings.index_dir, [live[n]], [], tokenizer, encoder)
        elif n in live and len(live) > 1:
            del live[n]
            apply_update(settings.index_dir, [], [POOL[n][0]], tokenizer, encoder)
    fresh = Settings(index_dir=tmp_path_factory.mktemp("fresh") / "index", cache_dir=CACHE_DIR)
    build_index(fresh.index_dir, [live[n] for n in sorted(live)], tokenizer, encoder, ["pool"], quiet=True)
    expected = all_scores(open_searcher(fresh, encoder))
    assert_same_scores(all_scores(open_searcher(settings, encoder)), expected)  # before any merge: exact stats
    run_merges(settings.index_dir, everything=True)
    assert_same_scores(all_scores(open_searcher(settings, encoder)), expected)
