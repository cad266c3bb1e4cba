"""Synonyms at query time: the file's rules, the BM25 terms they add, live edits, and what they leave alone."""

import os
import time

import pytest

from index.builder import build_index
from index.settings import Settings
from index.tokenize import normalize, tokenizer_from
from search.engine import open_searcher
from search.synonyms.expand import synonym_boosts
from search.synonyms.rules import SynonymFile, SynonymFileError, parse_rules, query_text

TOKENIZER = tokenizer_from(Settings())


def rules(text: str):
    return parse_rules(text, normalize)


def test_equivalences_and_one_way_rules():
    found = rules("# comment\n外卖骑手, 外卖小哥，外卖配送员\n\n一线职工 => 一线工人  # one way\nＡＩ, 人工智能\n")
    assert found.also["外卖小哥"] == ("外卖骑手", "外卖配送员")
    assert found.also["一线职工"] == ("一线工人",) and "一线工人" not in found.also
    assert found.also["ai"] == ("人工智能",)  # normalised as the tokenizer does: width and case
    assert found.expansions(query_text("送餐的外卖小哥", TOKENIZER)) == {"外卖骑手": ["外卖小哥"], "外卖配送员": ["外卖小哥"]}
    # never a phrase already in the query
    assert found.expansions(query_text("外卖小哥和外卖骑手", TOKENIZER)) == {"外卖配送员": ["外卖骑手", "外卖小哥"]}
    assert found.expansions(query_text("职工", TOKENIZER)) == {}


def test_a_phrase_matches_from_token_boundary_to_token_boundary():
    found = rules("市总, 市总工会\n")
    assert found.expansions(query_text("城市总体规划", TOKENIZER)) == {}  # 城市|总体: 市总 straddles two words
    assert found.expansions(query_text("市总的劳模", TOKENIZER)) == {"市总工会": ["市总"]}
    assert found.expansions(query_text("上海市总工会", TOKENIZER)) == {}  # 市总工会 (so 市总) is in it already
    rules_ = rules("市总工会, 市级工会\n")
    # jieba joins 市 to 上海: the phrase starts at the end of a token, which counts as a boundary
    assert rules_.expansions(query_text("上海市总工会的劳模", TOKENIZER)) == {"市级工会": ["市总工会"]}


def test_a_synonym_weighs_the_weight_of_the_phrase_it_stands_for_shared_by_idf():
    idf = {"骑手": 4.0, "外卖": 1.0, "小哥": 3.0, "送餐": 2.0}
    terms = {"骑手": ["骑手"], "外卖小哥": ["外卖", "小哥"], "送餐": ["送餐"]}.__getitem__
    boosts = synonym_boosts({"外卖小哥": ["骑手"]}, terms, lambda ts: {t: idf[t] for t in ts}, 0.5, {"骑手"})
    assert boosts == pytest.approx({"外卖": 0.5, "小哥": 0.5})  # 0.5 * 4 / (1 + 3): the whole phrase weighs 0.5 * 4
    assert sum(boosts[t] * idf[t] for t in boosts) == pytest.approx(0.5 * idf["骑手"])
    # a term of the query is never added again; the largest boost wins where two synonyms share a term
    boosts = synonym_boosts({"外卖小哥": ["骑手"], "送餐": ["骑手"]}, terms, lambda ts: {t: idf[t] for t in ts}, 0.5,
                            {"骑手", "小哥"})
    assert boosts == pytest.approx({"外卖": 0.5, "送餐": 1.0})


@pytest.mark.parametrize("line", ["a => ", " => b", "just one", "a => b => c"])
def test_a_broken_rule_names_its_line(line):
    with pytest.raises(SynonymFileError, match="line 2"):
        rules(f"a, b\n{line}\n")


@pytest.fixture
def indexed(settings, tiny_articles, fake_encoder):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    return settings


def test_a_synonym_finds_what_the_query_words_do_not_and_ranks_below_them(indexed, tmp_path, fake_encoder):
    file = tmp_path / "synonyms.txt"
    file.write_text("送餐小哥, 外卖配送员\n", encoding="utf-8")
    plain = open_searcher(indexed, fake_encoder)
    assert plain.search("送餐小哥", mode="bm25").hits == []
    with_file = open_searcher(indexed.model_copy(update={"synonyms": file}), fake_encoder)
    hits = with_file.search("送餐小哥", mode="bm25").hits
    assert hits and hits[0].paragraph.article_id == "a2"
    assert any(span.text == "外卖配送员" for span in hits[0].highlights)
    direct = with_file.search("外卖配送员", mode="bm25").hits[0]
    idf = with_file.bm25.corpus.term_weights(["送餐", "小哥", "外卖", "配送", "外卖配送员"])
    share = (idf["送餐"] + idf["小哥"]) / (idf["外卖"] + idf["配送"] + idf["外卖配送员"])
    assert hits[0].score == pytest.approx(direct.score * 0.5 * share)  # the query phrase's weight, halved


def test_no_file_or_an_empty_one_changes_nothing(indexed, tmp_path, fake_encoder):
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    plain = open_searcher(indexed, fake_encoder)
    with_empty = open_searcher(indexed.model_copy(update={"synonyms": empty}), fake_encoder)
    for query in ("外卖配送员的暖心驿站", "职工培训", "臺灣"):
        for mode in ("bm25", "hybrid"):
            assert [(h.paragraph.id, h.score) for h in plain.search(query, mode).hits] == \
                [(h.paragraph.id, h.score) for h in with_empty.search(query, mode).hits]


def test_keyword_syntax_is_left_alone(indexed, tmp_path, fake_encoder):
    file = tmp_path / "synonyms.txt"
    file.write_text("送餐小哥, 外卖配送员\n", encoding="utf-8")
    searcher = open_searcher(indexed.model_copy(update={"synonyms": file}), fake_encoder)
    assert searcher.search('"送餐小哥"', mode="bm25").hits == []


def test_an_edit_is_picked_up_and_a_broken_one_keeps_the_last_good_rules(tmp_path, monkeypatch):
    monkeypatch.setattr("search.synonyms.rules.RECHECK_S", 0.0)
    file = tmp_path / "synonyms.txt"
    file.write_text("甲, 乙\n", encoding="utf-8")
    watched = SynonymFile(file, normalize)
    assert watched.current().expansions(query_text("甲", TOKENIZER)) == {"乙": ["甲"]}
    file.write_text("甲, 丙\n", encoding="utf-8")
    os.utime(file, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert watched.current().expansions(query_text("甲", TOKENIZER)) == {"丙": ["甲"]} and watched.problem == ""
    file.write_text("甲 =>\n", encoding="utf-8")
    os.utime(file, ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
    assert watched.current().expansions(query_text("甲", TOKENIZER)) == {"丙": ["甲"]} and "line 1" in watched.problem
    with pytest.raises(SynonymFileError, match="ZHSEARCH_SYNONYMS"):
        SynonymFile(tmp_path / "missing.txt", normalize)


def test_candidate_groups_join_close_pairs_up_to_a_size():
    from search.synonyms.candidates import close_pairs, groups

    pairs = [(0.99, 0, 1), (0.97, 1, 2), (0.95, 3, 4), (0.94, 2, 3), (0.93, 5, 6)]
    # 2-3 would make a group of five: left out at size 3
    assert groups(pairs, 3) == [(0.97, [0, 1, 2]), (0.95, [3, 4]), (0.93, [5, 6])]
    assert groups(pairs, 5)[0] == (0.94, [0, 1, 2, 3, 4])
    import numpy as np

    vectors = np.array([[1.0, 0.0], [0.995, 0.0998], [0.0, 1.0]], dtype=np.float32)
    assert [(i, j) for _, i, j in close_pairs(vectors, 0.9)] == [(0, 1)]


def test_zhsearch_words_proposes_synonym_groups(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from api.cli.main import app
    from fakes import FakeEncoder

    monkeypatch.setattr("index.model.runtime.load_encoder", lambda settings: FakeEncoder())
    corpus = tmp_path / "a.jsonl"
    corpus.write_text("\n".join(
        '{"id": "%d", "title": "工会", "text": "外卖骑手和外卖骑士都说工会好。职工之家和职工小家都开了。"}' % n
        for n in range(4)), encoding="utf-8")
    result = CliRunner().invoke(app, ["words", str(corpus), "--synonyms", "--closeness", "0.4"])
    assert result.exit_code == 0 and "职工, 职工之家  # cosine >= 0.4" in result.stdout
