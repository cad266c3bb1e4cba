"""Paragraph -> sentences: nothing lost, short pieces joined, one-sentence paragraphs left alone."""

import re

from hypothesis import given
from hypothesis import strategies as st

from index.ingest.sentences import MIN_CHARS, sentence_units, split_sentences


def test_splits_at_terminators_and_keeps_closing_quotes():
    text = "初冬时节，一辆中巴车驶入独流镇。“我们很高兴有这样的培训！”他说。工会干部走进生产一线；为企业负责人充电赋能"
    assert split_sentences(text) == [
        "初冬时节，一辆中巴车驶入独流镇。", "“我们很高兴有这样的培训！”他说。", "工会干部走进生产一线；", "为企业负责人充电赋能",
    ]


def test_short_pieces_join_their_neighbour():
    assert split_sentences("据悉。工会为外卖配送员建起暖心驿站。好。") == ["据悉。工会为外卖配送员建起暖心驿站。好。"]
    assert split_sentences("一句话而已。") == ["一句话而已。"]
    assert split_sentences("  \n ") == []


@given(st.text(alphabet="工会职工。！？；，“”\n 的a1", max_size=80))
def test_nothing_is_lost_and_only_the_last_may_be_short(text):
    sentences = split_sentences(text)
    assert re.sub(r"\s+", "", "".join(sentences)) == re.sub(r"\s+", "", text)
    assert all(len(s) >= MIN_CHARS for s in sentences[:-1])


def test_units_skip_one_sentence_paragraphs_and_name_their_owner():
    texts = ["只有一句话的段落在这里。", "第一句说的是培训的事情。第二句说的是驿站的事情。", "又是只有一句的段落。"]
    sentences, owners = sentence_units(texts)
    assert sentences == ["第一句说的是培训的事情。", "第二句说的是驿站的事情。"]
    assert owners == [1, 1]
