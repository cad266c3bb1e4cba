"""The searcher on a tiny real index (real Whoosh, real FAISS, fake encoder)."""

import pytest

from index.builder import build_index
from index.tokenize import tokenizer_from
from search.engine import open_searcher
from search.fusion import FusionParams


@pytest.fixture
def searcher(settings, tiny_articles, fake_encoder):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    return open_searcher(settings, fake_encoder)


def test_bm25_finds_keyword_with_highlights(searcher):
    result = searcher.search("外卖配送员", mode="bm25", k=5)
    top = result.hits[0]
    assert top.paragraph.article_id == "a2"
    marked = [span.text for span in top.highlights]
    assert "外卖配送员" in marked or {"外卖", "配送员"} <= set(marked)
    for span in top.highlights:
        assert top.paragraph.text[span.start:span.end] == span.text


def test_traditional_query_finds_simplified_and_back(searcher):
    assert searcher.search("職工 培訓", mode="bm25").hits[0].paragraph.article_id == "a1"
    assert searcher.search("游戏开发", mode="bm25").hits[0].paragraph.article_id == "a3"


def test_phrase_and_boolean_syntax(searcher):
    assert {h.paragraph.article_id for h in searcher.search('"暖心驿站"', mode="bm25").hits} == {"a2"}
    hits = searcher.search("职工 NOT 高阳", mode="bm25").hits
    assert all("高阳" not in h.paragraph.text for h in hits)


@pytest.mark.parametrize("query", ['"unclosed', "AND", "(((", "OR OR NOT", "title:", "*", "~~~"])
def test_broken_syntax_never_raises(searcher, query):
    result = searcher.search(query, mode="bm25")
    assert result.total >= 0


def test_dense_and_hybrid_rank_every_mode(searcher):
    for mode in ("dense", "hybrid"):
        result = searcher.search("外卖配送员的暖心驿站", mode=mode, k=3)
        assert result.hits[0].paragraph.article_id == "a2"
        assert [h.rank for h in result.hits] == [1, 2, 3]


def test_paging_is_a_stable_slice(searcher):
    full = searcher.search("职工", mode="hybrid", k=4)
    page2 = searcher.search("职工", mode="hybrid", k=2, offset=2)
    assert [h.paragraph.id for h in page2.hits] == [h.paragraph.id for h in full.hits[2:4]]
    assert [h.rank for h in page2.hits] == [3, 4]


def test_rrf_fusion_per_query(searcher):
    params = FusionParams(method="rrf", rrf_k=60, k0=10)
    query = "高阳 培训"
    top = searcher.search(query, mode="hybrid", k=1, params=params).hits[0]
    ranks = {}
    for mode in ("bm25", "dense"):
        ids = [h.paragraph.id for h in searcher.search(query, mode=mode, k=10).hits]
        ranks[mode] = ids.index(top.paragraph.id) + 1
    assert top.score == pytest.approx(1 / (60 + ranks["bm25"]) + 1 / (60 + ranks["dense"]))


def test_served_hybrid_gives_paragraphs_their_articles_context(searcher):
    query = "职工 培训"
    alone = searcher.search(query, mode="hybrid", k=20, params=FusionParams(article_weight=0.0)).hits
    best = {}
    for hit in alone:
        best.setdefault(hit.paragraph.article_id, hit.score)
    assert len(alone) > len(best)  # some article has two paragraphs listed
    half = searcher.search(query, mode="hybrid", k=20, params=FusionParams(article_weight=0.5)).hits
    expected = {h.paragraph.id: 0.5 * h.score + 0.5 * best[h.paragraph.article_id] for h in alone}
    assert {h.paragraph.id: pytest.approx(h.score) for h in half} == expected


def test_nprobe_settings_reach_both_ivf_indexes(settings, fake_encoder):
    from index.models import Article

    sentences = "".join(f"第{i}句讲的是职工培训和外卖配送员的驿站。" for i in range(6))
    articles = [Article(f"a{i}", f"标题{i}", (sentences,)) for i in range(4)]
    build_index(settings.index_dir, articles, tokenizer_from(settings), fake_encoder, ["t"], quiet=True,
                ann_threshold=2)
    searcher = open_searcher(settings.model_copy(update={"ivf_nprobe": 3, "sentence_nprobe": 2}), fake_encoder)
    dense = searcher.corpus.parts[0].search
    assert dense.store.kind.startswith("ivf") and dense.sentences.store.kind.startswith("ivf")
    assert (dense.store.nprobe, dense.sentences.store.nprobe) == (3, 2)
    assert searcher.search("职工培训", mode="dense", k=2).hits


def test_segment_masks_meet_filters_as_the_row_by_row_rule_does(settings, fake_encoder):
    """search/filters.py: the vectorised mask of a segment against `accepts`, paragraph by paragraph."""
    from index.models import Article
    from search.embedded.masks import segment_mask
    from search.filters import Filter, accepts

    dates = [None, "2025", "2025-03", "2025-03-09", "2025-12-31", "2026-01-05", "--12-18"]
    articles = [Article(f"d{i}", f"标题{i}", (f"第{i}篇第一段。", f"第{i}篇第二段。"), source=f"s{i % 3}.txt",
                        date=dates[i % len(dates)]) for i in range(21)]
    build_index(settings.index_dir, articles, tokenizer_from(settings), fake_encoder, ["t"], quiet=True)
    segment = open_searcher(settings, fake_encoder).corpus.snapshot.views[0].segment
    filters = [Filter(), Filter(source="s1.txt"), Filter(source="none"), Filter(article_id="d4"),
               Filter(article_id="d4", source="s2.txt"), Filter(date_from="2025-03"), Filter(date_to="2025-03"),
               Filter(date_from="2025", date_to="2025-12"), Filter(date_to="2026"), Filter(date_from="2026-01-06")]
    for flt in filters:
        expected = [accepts(flt, p) for p in segment.paragraphs]
        assert segment_mask(flt, segment).tolist() == expected, flt


def test_a_replaced_searcher_is_freed_without_waiting_for_a_garbage_collection(settings, fake_encoder, tiny_articles):
    """A service replaces its searcher at every write: one kept alive by a reference cycle until a full collection
    would hold its caches (~6 MB a write at 100k) and make that collection long."""
    import gc
    import weakref

    from index.builder import build_index
    from index.tokenize import tokenizer_from
    from search.engine import open_searcher
    from search.filters import Filter

    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["t"], quiet=True)
    searcher = open_searcher(settings, fake_encoder)
    for mode in ("bm25", "dense", "hybrid"):
        searcher.search("职工 培训", mode, explain=True)
        searcher.search("职工", mode, flt=Filter(article_id="a1"))
    refs = [weakref.ref(searcher), weakref.ref(searcher.corpus), weakref.ref(searcher.bm25)]
    gc.disable()
    try:
        del searcher
        assert [ref() is None for ref in refs] == [True, True, True]
    finally:
        gc.enable()


def test_text_caches_pass_to_the_next_commit_points_searcher_and_follow_replaced_text(settings, searcher, fake_encoder):
    from index.models import Article
    from index.writer import apply_update

    assert searcher.search("暖心驿站", mode="hybrid").hits  # fills the caches
    terms_before = searcher.text_cache.terms.cache_info().currsize
    replaced = Article("a2", "驿站换了新名字", ("快递员的暖心驿站改名为爱心小屋。",))
    apply_update(settings.index_dir, [replaced], [], tokenizer_from(settings), fake_encoder)
    after = open_searcher(settings, fake_encoder, searcher)

    assert after is not searcher and after.text_cache is searcher.text_cache and terms_before > 0
    top = after.search("爱心小屋", mode="bm25").hits[0]
    assert top.paragraph.article_id == "a2"
    assert any("爱心" in span.text for span in top.highlights)
    for span in top.highlights:  # highlights are of the new text, not the replaced one's
        assert top.paragraph.text[span.start:span.end] == span.text
