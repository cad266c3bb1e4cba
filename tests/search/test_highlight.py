"""Highlights by substring search in normalised text: offsets into the original text."""

from index.tokenize import normalize
from search.highlight import highlight, occurrences


def marks(text: str, terms: set[str]) -> list[str]:
    return [span.text for span in highlight(text, terms, normalize(text))]


def test_simplified_terms_mark_traditional_text_at_its_offsets():
    text = "遊戲由韓國公司開發與發行"
    spans = highlight(text, {"开发", "游戏"}, normalize(text))
    assert [s.text for s in spans] == ["遊戲", "開發"]
    assert all(text[s.start:s.end] == s.text for s in spans)


def test_overlapping_terms_merge_into_one_span():
    assert marks("外卖配送员在驿站休息", {"外卖", "配送", "配送员", "外卖配送员"}) == ["外卖配送员"]


def test_latin_terms_match_whole_words_only():
    assert occurrences("email ai ai2 ai", "ai") == [(6, 8), (13, 15)]
    assert marks("ＡＩ助手和email", {"ai"}) == ["ＡＩ"]


def test_no_terms_no_marks():
    assert marks("职工", set()) == []
