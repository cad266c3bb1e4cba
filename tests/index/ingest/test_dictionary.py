"""User dictionary: applied by the tokenizer, recorded by content, and proposed from a corpus."""


import pytest

from index.ingest.dictionary import propose_words
from index.settings import DEFAULT_USER_DICT
from index.tokenize import Tokenizer


def test_user_dictionary_keeps_domain_words_whole(settings, tmp_path):
    plain = Tokenizer(user_dict=None, cache_dir=settings.cache_dir / "jieba")
    assert "职工之家" not in plain.terms("建设职工之家")
    with_dict = Tokenizer(user_dict=DEFAULT_USER_DICT, cache_dir=settings.cache_dir / "jieba")
    assert "职工之家" in with_dict.terms("建设职工之家")


def test_config_names_the_dictionary_by_content(settings, tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("工事共商 5 n\n", encoding="utf-8")
    before = Tokenizer(user_dict=path, cache_dir=settings.cache_dir / "jieba").config()["user_dict"]
    path.write_text("工事共商 5 n\n暖新行动 5 n\n", encoding="utf-8")
    after = Tokenizer(user_dict=path, cache_dir=settings.cache_dir / "jieba").config()["user_dict"]
    assert before != after and str(before).startswith("d.txt:")


def test_missing_dictionary_names_the_setting(settings, tmp_path):
    with pytest.raises(FileNotFoundError, match="ZHSEARCH_USER_DICT"):
        Tokenizer(user_dict=tmp_path / "none.txt", cache_dir=settings.cache_dir / "jieba")


def test_proposes_frequent_split_runs(settings):
    tok = Tokenizer(user_dict=None, cache_dir=settings.cache_dir / "jieba")
    texts = ["工事共商平台让职工说话。", "推广工事共商经验。", "工事共商解决了难题。", "今天天气好。"]
    words = dict(propose_words(tok, texts, top=10, min_count=3))
    assert words.get("工事共商") == 3
    assert all(count >= 3 for count in words.values())
