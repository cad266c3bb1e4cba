"""Near-duplicates: copies (reprints) marked at ingest, kept through writes, deletes and merges, shown once."""

import numpy as np
import opencc
import pytest

from index.builder import build_index
from index.commits import read_current
from index.ingest.minhash import THRESHOLD, signatures
from index.merge import merge_segments
from index.models import Article, article_id_of
from index.store.minhash_store import DuplicateStore, story_keys
from index.tokenize import tokenizer_from
from index.writer import apply_update
from search.engine import open_searcher
from search.hybrid import View
from search.views.copies import hide_copies

STORY = ("全国总工会近日召开会议，部署开展新就业形态劳动者权益保障工作。会议要求各级工会组织深入快递、外卖、网约车等行业，"
         "摸清劳动者的实际需求，推动企业与劳动者开展集体协商，在劳动报酬、休息休假、劳动安全等方面形成制度安排。",
         "会议指出，各地工会已建成一批暖心驿站，为户外劳动者提供饮水、休息、充电等服务，下一步将扩大覆盖面。")
OTHER = ("天津市静海区的工匠学院把课堂搬到了车间，讲师团走进生产一线，为青年职工讲解数控加工和质量管理的新方法，"
         "参加培训的职工说，培训内容贴近岗位，回去就能用上。", "学院今年计划开设四十期培训班，覆盖全区两千多名职工。")


def reprint(paragraphs: tuple[str, ...]) -> tuple[str, ...]:
    """A newsroom's reprint: an editor's line added and a few characters changed."""
    first = paragraphs[0].replace("近日", "日前").replace("一批", "多个")
    return ("（本报讯）" + first, *paragraphs[1:])


def article(aid: str, title: str, paragraphs: tuple[str, ...], source: str = "p1.txt") -> Article:
    return Article(aid, title, paragraphs, source=source, date="2026-01-12")


ORIGINAL = article("a", "全总部署新就业形态劳动者权益保障", STORY)
COPY = article("b", "（转载）全总：保障新就业形态劳动者权益", reprint(STORY), source="p2.txt")
TRADITIONAL = article("t", "全總部署權益保障", tuple(opencc.OpenCC("s2t").convert(p) for p in STORY), source="p3.txt")
UNRELATED = article("u", "工匠学院开进车间", OTHER)


def test_a_signature_is_the_one_every_index_already_holds():
    """An index keeps its articles' signatures and compares each later write's with them: a new library default
    (datasketch 1.x hashed another way) must fail here, not silently stop marking reprints."""
    assert signatures([ORIGINAL])[0][:4].tolist() == [6436355, 115742469, 15465526, 38520479]


def test_copies_are_marked_with_the_first_articles_id_and_others_with_their_own():
    found = signatures([ORIGINAL, COPY, TRADITIONAL, UNRELATED])
    similarity = (found[0] == found).mean(axis=1)
    assert similarity[1] >= THRESHOLD and similarity[2] >= THRESHOLD and similarity[3] < 0.2
    assert story_keys(["a", "b", "t", "u"], found) == {"a": "a", "b": "a", "t": "a", "u": "u"}
    short = signatures([article("s", "短", ("太短了。",)), article("s2", "短", ("太短了。",))])
    assert not short.any() and story_keys(["s", "s2"], short) == {"s": "s", "s2": "s2"}  # too short to tell


def test_a_dead_article_is_never_matched_and_the_best_live_match_wins():
    found = signatures([ORIGINAL, COPY, TRADITIONAL])
    store = DuplicateStore.build(["a", "b"], found[:2], {"a": "a", "b": "a"})
    assert story_keys(["t"], found[2:], [(store, lambda aid: True)]) == {"t": "a"}
    assert story_keys(["t"], found[2:], [(store, lambda aid: aid == "b")]) == {"t": "a"}  # b's story
    assert story_keys(["t"], found[2:], [(store, lambda aid: False)]) == {"t": "t"}


def test_hiding_copies_keeps_the_first_article_of_each_story_in_order():
    story = {"b": "a", "c": "a"}.get
    ranked = [("b.p000", 0.9), ("x.p000", 0.8), ("a.p000", 0.7), ("b.p001", 0.6), ("c.p000", 0.5)]
    kept, hidden = hide_copies(ranked, lambda pid: pid.split(".")[0], lambda aid: story(aid, aid))
    assert kept == [("b.p000", 0.9), ("x.p000", 0.8), ("b.p001", 0.6)] and hidden == 2


@pytest.fixture
def indexed(settings, fake_encoder):
    build_index(settings.index_dir, [ORIGINAL, COPY, UNRELATED], tokenizer_from(settings), fake_encoder, ["t"],
                quiet=True)
    return settings


@pytest.mark.parametrize("paged", [False, True])
def test_marks_hold_through_writes_deletes_and_a_merge(indexed, fake_encoder, paged, monkeypatch):
    from index.check import check_index
    from index.store import minhash_store

    if paged:  # every saved array read with pread, as a large segment's are
        monkeypatch.setattr(minhash_store, "READ_WHOLE", 0)
    tokenizer = tokenizer_from(indexed)
    searcher = open_searcher(indexed, fake_encoder)
    assert searcher.corpus.copies("a") == ["b"] and searcher.corpus.copies("u") == []
    apply_update(indexed.index_dir, [TRADITIONAL], [], tokenizer, fake_encoder)  # a copy written later
    assert open_searcher(indexed, fake_encoder).corpus.copies("a") == ["b", "t"]
    apply_update(indexed.index_dir, [], ["a"], tokenizer, fake_encoder)  # the first one deleted: its id stays the story
    later = article("c", "再转载", reprint(reprint(STORY)))
    apply_update(indexed.index_dir, [later], [], tokenizer, fake_encoder)
    corpus = open_searcher(indexed, fake_encoder).corpus
    assert corpus.story("c") == "a" and corpus.copies("b") == ["c", "t"]
    _, manifest = read_current(indexed.index_dir)
    merge_segments(indexed.index_dir, [s.name for s in manifest.segments])
    merged = open_searcher(indexed, fake_encoder).corpus
    assert len(merged.snapshot.views) == 1
    assert merged.copies("b") == ["c", "t"] and merged.copies("u") == []
    assert isinstance(merged.snapshot.views[0].segment.duplicates.signatures, minhash_store.PagedArray) == paged
    assert check_index(indexed.index_dir)[1] == []


def test_a_search_shows_one_article_of_a_story_and_names_its_copies(indexed, fake_encoder):
    searcher = open_searcher(indexed, fake_encoder)
    for mode in ("bm25", "dense", "hybrid"):
        shown = searcher.search("新就业形态劳动者权益保障", mode, k=10)
        articles = [h.paragraph.article_id for h in shown.hits]
        assert len({"a", "b"} & set(articles)) == 1, (mode, articles)
        first = next(h for h in shown.hits if h.paragraph.article_id in ("a", "b"))
        assert first.similar == sorted({"a", "b"} - {first.paragraph.article_id})
        everything = searcher.search("新就业形态劳动者权益保障", mode, k=10, view=View(dedup=False))
        assert {"a", "b"} <= {h.paragraph.article_id for h in everything.hits}, mode
        assert everything.total - shown.total == sum(h.paragraph.article_id == "b" for h in everything.hits) or \
            mode != "hybrid"
    grouped = searcher.search("新就业形态劳动者权益保障", "bm25", view=View(group="article"))
    assert len({"a", "b"} & {a.article_id for a in grouped.articles}) == 1
    assert grouped.articles[0].similar in (["a"], ["b"])
    assert searcher.related("a") == [] or all(aid != "b" for aid, _ in searcher.related("a"))


def test_paging_with_copies_hidden_never_repeats_or_skips(settings, fake_encoder):
    copies = [article(f"c{i:02d}", f"转载{i}", reprint(STORY) if i % 2 else STORY) for i in range(12)]
    others = [article(f"o{i:02d}", f"其他{i}", (f"第{i}篇：" + OTHER[0], OTHER[1])) for i in range(12)]
    build_index(settings.index_dir, copies + others, tokenizer_from(settings), fake_encoder, ["t"], quiet=True)
    searcher = open_searcher(settings, fake_encoder)
    pages = [searcher.search("职工 劳动者", "bm25", k=3, offset=at).hits for at in range(0, 12, 3)]
    ids = [h.paragraph.id for page in pages for h in page]
    assert len(ids) == len(set(ids))
    assert sum(h.paragraph.article_id.startswith("c") for page in pages for h in page) <= 2  # one story, 2 paragraphs
    assert np.array_equal([h.rank for page in pages for h in page], np.arange(1, len(ids) + 1))


def test_check_finds_marks_that_disagree_with_the_articles(indexed):
    from index.check import check_index
    from index.store.minhash_store import STORIES

    _, manifest = read_current(indexed.index_dir)
    assert check_index(indexed.index_dir)[1] == []
    folder = indexed.index_dir / manifest.segments[0].name
    text = (folder / STORIES).read_text(encoding="utf-8")
    (folder / STORIES).write_text(text.replace('"u"', '"nobody"', 1), encoding="utf-8")
    assert any("near-duplicate marks" in p for p in check_index(indexed.index_dir)[1])


def test_a_merge_marks_the_articles_of_a_segment_from_before_marks():
    from index.store.minhash_store import empty, merged

    marked = DuplicateStore.build(["a"], signatures([ORIGINAL]), {"a": "a"})
    old = empty(["b", "u"])  # written before near-duplicates were marked: no signatures
    out = merged([(marked, [ORIGINAL]), (old, [COPY, UNRELATED])])
    assert out.ids == ["a", "b", "u"] and out.marked
    assert (out.story("a"), out.story("b"), out.story("u")) == ("a", "a", "u")
    assert out.signatures[1].any() and np.array_equal(out.signatures[0], marked.signatures[0])


@pytest.mark.parametrize("saved", [False, True])
def test_band_candidates_are_every_row_sharing_a_band_key_as_brute_force_finds_them(saved, tmp_path, monkeypatch):
    from index.ingest.minhash import BANDS, NUM_PERM, band_keys
    from index.store import minhash_store
    from index.store.paged_array import PagedArray

    rng = np.random.default_rng(7)
    rows = rng.integers(1, 5, size=(301, NUM_PERM), dtype=np.uint32)  # 4 values: many shared bands
    rows[5] = 0  # a row too short to sign: never a candidate
    store = DuplicateStore.build([f"a{i}" for i in range(len(rows))], rows, {})
    if saved:  # paged from disk, a fence post every 7 keys: runs of equal keys straddle posts and windows
        monkeypatch.setattr(minhash_store, "STRIDE", 7)
        monkeypatch.setattr(minhash_store, "READ_WHOLE", 0)
        store.save(tmp_path)
        store = DuplicateStore.open(tmp_path)
        assert isinstance(store.sorted_keys, PagedArray) and isinstance(store.signatures, PagedArray)
    found = 0
    every = band_keys(rows)
    probes = [rows[3], rows[5] + 1, rng.integers(1, 5, NUM_PERM, dtype=np.uint32), rows[300]]
    band0 = np.asarray(store.sorted_rows[0])
    probes += [rows[band0[0]], rows[band0[-1]]]  # the first and the last key of a band
    for probe in probes:
        keys = band_keys(probe[None, :])[0]
        expected = [r for r in range(len(rows)) if r != 5 and (every[r] == keys).any()]
        assert store.candidates(keys).tolist() == expected and len(keys) == BANDS
        assert np.array_equal(store.signatures[store.candidates(keys)], rows[expected])
        found += len(expected)
    assert found > 3  # the check compared something


def test_a_tombstoned_old_version_is_never_the_story_of_a_new_article(indexed, fake_encoder):
    tokenizer = tokenizer_from(indexed)
    weather = article("u", "天气", ("今天全市晴转多云，最高气温十八摄氏度，最低气温六摄氏度，东北风三到四级。明天有小雨，"
                                  "市民出行请带好雨具，注意防寒保暖，驾车出行注意路面湿滑，减速慢行。",))
    apply_update(indexed.index_dir, [weather], [], tokenizer, fake_encoder)  # u rewritten with unrelated text
    reprint_of_old_u = article("r", "转载", reprint(OTHER))
    apply_update(indexed.index_dir, [reprint_of_old_u], [], tokenizer, fake_encoder)
    corpus = open_searcher(indexed, fake_encoder).corpus
    assert corpus.story("r") == "r" and corpus.copies("u") == [] and corpus.copies("r") == []


def test_an_id_reused_for_other_text_does_not_join_the_story_its_old_copies_hold(indexed, fake_encoder):
    tokenizer = tokenizer_from(indexed)
    unrelated = article("a", "天气", ("今天全市晴转多云，最高气温十八摄氏度，最低气温六摄氏度，东北风三到四级。明天有小雨，"
                                    "市民出行请带好雨具，注意防寒保暖，驾车出行注意路面湿滑，减速慢行。",))
    apply_update(indexed.index_dir, [unrelated], [], tokenizer, fake_encoder)  # a replaced: b's story is still "a"
    corpus = open_searcher(indexed, fake_encoder).corpus
    assert corpus.story("a") != "a" and corpus.copies("a") == [] and corpus.copies("b") == []
    apply_update(indexed.index_dir, [], ["a"], tokenizer, fake_encoder)
    apply_update(indexed.index_dir, [ORIGINAL], [], tokenizer, fake_encoder)  # the id again, with its first text
    corpus = open_searcher(indexed, fake_encoder).corpus
    assert corpus.copies("a") == ["b"] and corpus.copies("b") == ["a"]


def test_a_page_of_bm25_results_never_promises_a_page_past_the_last(settings, fake_encoder):
    copies = [article(f"c{i:02d}", f"转载{i}", reprint(STORY) if i % 2 else STORY) for i in range(40)]
    others = [article(f"o{i:02d}", f"其他{i}", (f"第{i}篇：劳动者" + OTHER[0], OTHER[1])) for i in range(25)]
    build_index(settings.index_dir, others + copies, tokenizer_from(settings), fake_encoder, ["t"], quiet=True)
    searcher = open_searcher(settings, fake_encoder)
    pages = [searcher.search("劳动者", "bm25", k=3, offset=at) for at in range(0, 120, 3)]
    assert {page.total for page in pages} == {pages[0].total}  # every page promises the same
    shown = [h.paragraph.id for page in pages for h in page.hits]
    assert len(shown) == len(set(shown)) == pages[0].total  # every promised result, once


def copies_and_others(settings, fake_encoder):
    """40 copies of one story and 25 articles of another (near-duplicates too), all matching "劳动者"; a searcher."""
    copies = [article(f"c{i:02d}", f"转载{i}", reprint(STORY) if i % 2 else STORY) for i in range(40)]
    others = [article(f"o{i:02d}", f"其他{i}", (f"第{i}篇：劳动者" + OTHER[0], OTHER[1])) for i in range(25)]
    build_index(settings.index_dir, others + copies, tokenizer_from(settings), fake_encoder, ["t"], quiet=True)
    return open_searcher(settings, fake_encoder)


def counting(searcher, monkeypatch) -> tuple[list[int], list[int]]:
    """Record each scoring of a query's matches (its depth) and each cut of those matches (its depth)."""
    scored, cuts = [], []
    matches = searcher.corpus.collection.matches

    class Counted:
        def __init__(self, found):
            self.found = found

        def cut(self, k):
            cuts.append(k)
            return self.found.cut(k)

    def scoring(leaves, deepest, allowed=None):
        scored.append(deepest)
        return Counted(matches(leaves, deepest, allowed))

    monkeypatch.setattr(searcher.corpus.collection, "matches", scoring)
    return scored, cuts


def test_bm25_with_a_copy_hidden_scores_once_and_cuts_at_every_match_finding_what_hiding_all_finds(settings,
                                                                                                 fake_encoder,
                                                                                                 monkeypatch):
    searcher = copies_and_others(settings, fake_encoder)
    everything, matches, _ = searcher.traced("劳动者", "bm25", 10_000, searcher.defaults)
    kept, _ = hide_copies(everything, article_id_of, searcher.corpus.story)
    scored, cuts = counting(searcher, monkeypatch)
    got = searcher.search("劳动者", "bm25", k=3)
    assert len(scored) == 1 and cuts == [6, 10_000]  # a copy in the first cut: then every match, scored once
    assert [h.paragraph.id for h in got.hits] == [pid for pid, _ in kept[:3]] and got.total == len(kept) < matches
    assert got.total_exact


def test_a_dense_ranking_short_of_what_was_asked_is_still_an_upper_bound(settings, fake_encoder, monkeypatch):
    """IVF lists or a filter may give dense fewer rows than asked without giving every paragraph: the count of a
    page with copies hidden then still holds those further down, so it is no exact total."""
    searcher = copies_and_others(settings, fake_encoder)
    traced = searcher.traced

    def short(query, mode, depth, *rest):
        ranked, total, trace = traced(query, mode, depth, *rest)
        return ranked[:max(1, depth // 2)], total, trace  # half of what was asked, as a thin IVF probe gives

    monkeypatch.setattr(searcher, "traced", short)
    got = searcher.search("劳动者", "dense", k=3)
    assert got.hits and got.total > len(got.hits) and not got.total_exact
    every = searcher.search("劳动者", "dense", k=3, view=View(dedup=False))
    assert every.total_exact  # without hiding copies a dense total is every paragraph, exactly


def test_bm25_past_a_pools_matches_cuts_only_as_deep_as_the_page_needs(settings, fake_encoder, monkeypatch):
    import search.hybrid

    searcher = copies_and_others(settings, fake_encoder)
    everything, matches, _ = searcher.traced("劳动者", "bm25", 10_000, searcher.defaults)
    pool = matches - 1
    monkeypatch.setattr(search.hybrid, "POOL_LIMIT", pool)  # more matches than a pool: no exact count
    scored, cuts = counting(searcher, monkeypatch)
    # The "others" are one story too: 3 paragraphs show in all, the third past 80 copies. A page goes deeper in
    # x4 steps while it is short, up to the pool (past the last, it ends there)
    for k, offset, depths in ((3, 0, [6, 24, 96]), (5, 20, [50, pool])):
        scored.clear(), cuts.clear()
        got = searcher.search("劳动者", "bm25", k=k, offset=offset)
        kept, hidden = hide_copies(everything[:depths[-1]], article_id_of, searcher.corpus.story)
        assert len(scored) == 1 and cuts == depths and hidden > 0
        assert [h.paragraph.id for h in got.hits] == [pid for pid, _ in kept[offset:offset + k]]
        assert got.total == matches - hidden and not got.total_exact  # those hidden among what was fetched
    assert len(kept) == 3 and not got.hits and 4 * 50 > pool
