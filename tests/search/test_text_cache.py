"""Text caches: what is derived from text alone, keyed by the text, bounded."""

from index.tokenize import normalize
from search.bm25 import parse_query, query_parser
from search.text_cache import TextCache


def test_each_cache_gives_what_the_tokenizer_gives_and_computes_it_once(settings):
    from index.tokenize import tokenizer_from

    tokenizer = tokenizer_from(settings)
    cache = TextCache(tokenizer, texts=2, queries=2)
    text = "職工在暖心驿站 休息。"
    assert cache.terms(text) == frozenset(tokenizer.terms(text))
    assert cache.folded(text) == normalize(text, tokenizer.fold_traditional)
    assert cache.parse("驿站 AND 职工") == parse_query(query_parser(tokenizer), tokenizer, "驿站 AND 职工")
    cache.terms(text)
    assert cache.terms.cache_info().hits == 1


def test_the_caches_are_bounded(settings):
    from index.tokenize import tokenizer_from

    cache = TextCache(tokenizer_from(settings), texts=2, queries=2)
    for text in ("一", "二", "三", "四"):
        cache.terms(text)
        cache.folded(text)
        cache.parse(text)
    assert {cache.terms.cache_info().currsize, cache.folded.cache_info().currsize,
            cache.parse.cache_info().currsize} == {2}
