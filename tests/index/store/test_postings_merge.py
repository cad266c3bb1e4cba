"""A merged segment's postings, joined from its sources', are the ones read back from its merged Whoosh segment."""

from __future__ import annotations

import pytest

from index.builder import build_index
from index.commits import read_current
from index.merge import run_merges
from index.models import Article
from index.store.postings.from_text import field_boosts
from index.store.postings.from_whoosh import read_postings
from index.store.segment import Segment
from index.tokenize import tokenizer_from
from index.writer import apply_update
from test_bm25_store import assert_same_postings


def segments(index_dir) -> list[Segment]:
    _, manifest = read_current(index_dir)
    return [Segment.open(index_dir / s.name) for s in manifest.segments]


def assert_postings_as_whoosh_reads_them(segment: Segment) -> None:
    index = segment.bm25.index
    assert_same_postings(segment.postings, read_postings(index, segment.row_of, field_boosts(index.schema)))


@pytest.mark.parametrize("chunk", [None, 1, 7])
def test_merged_postings_drop_the_deleted_rows_and_renumber_the_rest(settings, tiny_articles, fake_encoder, chunk,
                                                                     monkeypatch):
    """Whatever the postings converted at once (a term's postings are never split: 1 is a term at a time)."""
    from index.store.postings import merge as postings_merge

    if chunk is not None:
        monkeypatch.setattr(postings_merge, "CHUNK", chunk)
    tokenizer = tokenizer_from(settings)
    build_index(settings.index_dir, tiny_articles, tokenizer, fake_encoder, ["tiny"], quiet=True)
    for i in range(6):
        words = "职工培训" if i % 2 else "安全生产 驿站"
        apply_update(settings.index_dir, [Article(f"m{i}", f"第{i}篇{words}", (f"第{i}篇讲{words}。", "驿站提供热水。"))],
                     [], tokenizer, fake_encoder)
    apply_update(settings.index_dir, [Article("m0", "换了", ("只剩一段讲工会。",))], ["m3", tiny_articles[0].id],
                 tokenizer, fake_encoder)  # rows deleted in the base segment and in small ones
    assert run_merges(settings.index_dir, everything=True) == 1
    (merged,) = segments(settings.index_dir)
    assert "m3" not in merged.articles and tiny_articles[0].id not in merged.articles
    assert_postings_as_whoosh_reads_them(merged)


def test_merged_postings_with_many_distinct_frequencies_widen_their_codes(settings, fake_encoder):
    """Each source holds under 256 distinct frequencies of a field, the merged segment over 256: uint32 codes."""
    tokenizer = tokenizer_from(settings)
    first = [Article(f"a{n}", "工会", ("职工 " * n + "培训",)) for n in range(1, 180)]
    build_index(settings.index_dir, first, tokenizer, fake_encoder, ["many"], quiet=True)
    apply_update(settings.index_dir, [Article(f"b{n}", "工会", ("职工 " * n + "培训",)) for n in range(150, 330)],
                 ["a7"], tokenizer, fake_encoder)
    assert all(s.postings.codes.dtype.itemsize == 2 for s in segments(settings.index_dir))
    assert run_merges(settings.index_dir, everything=True) == 1
    (merged,) = segments(settings.index_dir)
    assert merged.postings.codes.dtype.itemsize == 4 and len(merged.postings.weights["text"]) > 256
    assert_postings_as_whoosh_reads_them(merged)
