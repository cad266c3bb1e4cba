"""The tokenizer: normalisation keeps offsets, punctuation goes, scripts fold."""

from hypothesis import given
from hypothesis import strategies as st

from index.tokenize import Tokenizer, normalize


def test_width_case_and_script_fold():
    assert normalize("ＡＢＣ１２３　臺灣") == "abc123 台湾"


@given(st.text(max_size=50))
def test_normalize_keeps_length(text):
    assert len(normalize(text)) == len(text)


def char_by_char(text: str) -> str:
    """The rule as first written, one character at a time: the reference the fast path must equal."""
    def one(ch: str) -> str:
        code = ord(ch)
        ch = chr(code - 0xFEE0) if 0xFF01 <= code <= 0xFF5E else " " if code == 0x3000 else ch
        low = ch.lower()
        return low if len(low) == 1 else ch
    return "".join(one(ch) for ch in text)


@given(st.text(alphabet=st.sampled_from("ＡｚＺ０　Σσ ΟΔΟΣİIẞß臺灣abcXYZ。！,ΣΑ"), max_size=30) | st.text(max_size=50))
def test_normalize_equals_the_character_by_character_rule(text):
    # the index was built with the char-by-char rule; whole-string lower() differs on İ and final Σ
    assert normalize(text, fold_traditional=False) == char_by_char(text)


def test_tokens_point_into_the_original_text(settings):
    tok = Tokenizer(cache_dir=settings.cache_dir / "jieba")
    text = "臺灣的「開發」，與發行！ＡＢＣ工匠学院"
    tokens = tok(text)
    assert [t.term for t in tokens][:3] == ["台湾", "的", "开发"]
    for t in tokens:
        assert normalize(text[t.start:t.end]) == t.term


def test_punctuation_is_dropped(settings):
    tok = Tokenizer(cache_dir=settings.cache_dir / "jieba")
    assert tok.terms("“，。！？、（）——") == []


def test_search_mode_adds_sub_words(settings):
    terms = Tokenizer(cache_dir=settings.cache_dir / "jieba").terms("工匠学院直通车")
    assert {"工匠", "学院", "直通车"} <= set(terms)


def test_traditional_query_meets_simplified_text(settings):
    tok = Tokenizer(cache_dir=settings.cache_dir / "jieba")
    assert set(tok.terms("遊戲開發")) == set(tok.terms("游戏开发"))


def test_recent_tokens_are_bounded_by_their_count_of_tokens():
    from index.tokenize import RecentTokens, Token

    recent = RecentTokens(budget=10, longest=4)
    tokens = lambda n: tuple(Token("词", i, i + 1) for i in range(n))  # noqa: E731
    recent.put("long", tokens(5))
    assert recent.get("long") is None  # over `longest`: never kept
    for name in "abc":
        recent.put(name, tokens(4))
    assert recent.get("a") is None and recent.get("b") and recent.get("c") and recent.size == 8
    recent.get("b")  # b is now the most recent: c goes first
    recent.put("d", tokens(3))
    recent.put("e", tokens(3))
    assert recent.get("c") is None and recent.get("b") and recent.size <= 10


def test_pinned_tokens_are_used_within_and_forgotten_after_nested_pins_too():
    from index.tokenize import Token

    tok = Tokenizer()
    made = (Token("钉住", 0, 2),)
    with tok.pinned({"某段文字": made}):
        with tok.pinned({"某段文字": made}):
            assert tok("某段文字") == list(made)
        assert tok.tokens("某段文字") == made  # the outer pin still holds
    assert tok._pinned == {} and not tok._pins
    assert tok("某段文字") != list(made)  # jieba's own tokens again


def test_tokens_and_unremembered_terms_leave_the_recent_texts_alone():
    tok = Tokenizer()
    assert tok.tokens("工匠学院开课") and tok.terms("夜校招生", remember=False)
    assert tok._recent.get("工匠学院开课") is None and tok._recent.get("夜校招生") is None
    tok.terms("夜校招生")
    assert tok._recent.get("夜校招生") is not None
