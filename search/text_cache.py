"""What a searcher derives from text alone, kept from one commit point's searcher to the next.

A paragraph's or a title's terms (a query's coverage), a paragraph's folded text (highlights) and a
parsed query depend on the text and the tokenizer only. A service replaces its searcher at every write, up
to once a second under a feed: caches of the searcher's own would start cold each time, and every
query after a write would tokenise its best hit again (jieba) and parse again. Keyed by the text itself
(not a paragraph id, which a replaced article keeps for its new text), these stay true at any commit
point and pass from each searcher to the next while the tokenizer is the same (search/engine.py).
"""

from __future__ import annotations

from functools import lru_cache, partial

from index.tokenize import Tokenizer, normalize
from search.bm25 import parse_query, query_parser

# Texts each cache holds at most. A paragraph's terms take ~5 KB (a 180-character paragraph, ~100 terms): at
# most ~20 MB, held for the service's life (a searcher's own caches were emptied by every write).
TEXTS = 4096
QUERIES = 1024  # parsed queries


def text_terms(tokenizer: Tokenizer, text: str) -> frozenset[str]:
    return frozenset(tokenizer.terms(text, remember=False))  # kept here: the tokenizer need not keep them too


def folded_text(tokenizer: Tokenizer, text: str) -> str:
    """The text as the tokenizer normalises it (for highlights; same length as the text)."""
    return normalize(text, tokenizer.fold_traditional)


class TextCache:
    """Bounded caches of `tokenizer`'s work on texts and queries (thread-safe: functools' LRU caches).

    They hold the texts and the tokenizer, never a searcher or a corpus: a replaced searcher is freed at once.
    """

    def __init__(self, tokenizer: Tokenizer, texts: int = TEXTS, queries: int = QUERIES) -> None:
        self.tokenizer = tokenizer
        self.terms = lru_cache(maxsize=texts)(partial(text_terms, tokenizer))
        self.folded = lru_cache(maxsize=texts)(partial(folded_text, tokenizer))
        self.parse = lru_cache(maxsize=queries)(partial(parse_query, query_parser(tokenizer), tokenizer))
