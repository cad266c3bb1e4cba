"""Related stories: the articles closest to one article, by its paragraphs' vectors and its title's words.

An article's vector is the unit mean of its paragraphs' stored vectors; the dense leg ranks
paragraphs by cosine to it, the BM25 leg by its title as a query; each leg collapses to articles
(an article scores by its best paragraph) and the two are fused as a hybrid query's are (min-max
normalised, weighted sum: RELATED_DENSE_WEIGHT to the vectors). The article itself is never
related, nor a copy of it: an article of its story (a reprint, marked at ingest) or one with the same
paragraphs as the tokenizer normalises them (an exact copy too short to be marked).
"""

from __future__ import annotations

import hashlib

import numpy as np

from index.models import UnknownArticleError, article_id_of
from index.tokenize import normalize
from search.corpus import Corpus
from search.filters import NO_FILTER
from search.fusion import Ranked, collapse, weighted_sum

RELATED_DENSE_WEIGHT = 0.7  # the vectors say what a story is about; the title's words, whom and where
DEPTH = 100  # paragraphs taken from each leg


def article_vector(corpus: Corpus, article_id: str) -> np.ndarray | None:
    """The unit mean of an article's paragraph vectors (None: no live paragraph)."""
    ids = [p.id for p in corpus.article_paragraphs(article_id)]
    if not ids:
        return None
    mean = corpus.paragraph_vectors(ids).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else None


def text_digest(corpus: Corpus, article_id: str, fold_traditional: bool = True) -> str:
    """A digest of an article's normalised paragraphs: equal for exact duplicates."""
    text = "\n".join(normalize(p.text, fold_traditional) for p in corpus.article_paragraphs(article_id))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def related_articles(corpus: Corpus, bm25_search, article_id: str, k: int, fold_traditional: bool = True) -> Ranked:
    """The `k` articles most related to `article_id`, (article id, fused score) by (-score, id).

    `bm25_search(text, k)` is the BM25 retriever's search: (ranked paragraphs, total); `fold_traditional`
    the tokenizer's, for telling exact duplicates. Raises UnknownArticleError for an id no live article has.
    """
    article = corpus.article(article_id)
    if article is None:
        raise UnknownArticleError(article_id)
    vector = article_vector(corpus, article_id)
    dense = collapse(corpus.dense(vector[None, :], DEPTH, NO_FILTER)[0], article_id_of) if vector is not None else []
    sparse = collapse(bm25_search(article.title, DEPTH)[0], article_id_of) if article.title.strip() else []
    own, story = text_digest(corpus, article_id, fold_traditional), corpus.story(article_id)
    fused = weighted_sum([p for p in sparse if p[0] != article_id], [p for p in dense if p[0] != article_id],
                         RELATED_DENSE_WEIGHT)
    out: Ranked = []
    for candidate, score in fused:
        if corpus.story(candidate) != story and text_digest(corpus, candidate, fold_traditional) != own:
            out.append((candidate, score))
        if len(out) == k:
            break
    return out
