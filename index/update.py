"""An update prepared before the write lock: its articles split, embedded, signed and tokenised.

This is the slow part of a write (the model), done with no lock held and the same for either engine:
the embedded index commits a prepared update as a segment (index/writer.py `commit_prepared`),
Milvus as rows (index/milvus/writer.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from index.ingest.minhash import signatures
from index.ingest.paragraphs import passage_texts, split_article
from index.ingest.sentences import sentence_units
from index.model.embed import Encoder
from index.models import Article, Paragraph
from index.tokenize import Token, Tokenizer


@dataclass(frozen=True)
class PreparedArticle:
    """An article to upsert with its paragraphs and their vectors, computed before the write lock."""

    article: Article
    paragraphs: list[Paragraph]
    vectors: np.ndarray  # one row per paragraph
    sentences: np.ndarray  # sentence vectors of its multi-sentence paragraphs
    sentence_owners: list[str]  # the paragraph id of each sentence row
    signature: np.ndarray | None = None  # its MinHash signature (index/ingest/minhash.py); None: computed at commit


@dataclass(frozen=True)
class PreparedUpdate:
    upserts: list[PreparedArticle]
    deletes: list[str]
    sentence_vectors: bool  # whether sentence vectors were computed (the index's setting when prepared)
    tokens: dict[str, tuple[Token, ...]] = field(default_factory=dict)  # its titles' and texts' (`pretokenize`)


def _encoded(encoder: Encoder, texts: list[str]) -> np.ndarray:
    return encoder.encode_passages(texts) if texts else np.zeros((0, encoder.dim), np.float32)


def prepare(upserts: list[Article], deletes: list[str], encoder: Encoder, sentence_vectors: bool,
            tokenizer: Tokenizer | None = None) -> PreparedUpdate:
    """Split and embed the upserts (no lock held: this is the slow part of a write); with `tokenizer`, the one
    the commit will use, tokenise them too (`pretokenize`)."""
    paragraphs = [split_article(article) for article in upserts]
    flat = [p for group in paragraphs for p in group]
    texts, owners = sentence_units([p.text for p in flat]) if sentence_vectors else ([], [])
    # one call: the encoder plans its passes over paragraphs and sentences together (a long sentence and a
    # short paragraph share one), fewer passes than two calls
    together = _encoded(encoder, passage_texts(flat) + texts)
    vectors, sentences = together[:len(flat)], together[len(flat):]
    owner_ids = [flat[o].id for o in owners]
    found = signatures(upserts)
    prepared, at = [], 0
    for article, group, signature in zip(upserts, paragraphs, found):
        ids = {p.id for p in group}
        rows = [i for i, pid in enumerate(owner_ids) if pid in ids]
        prepared.append(PreparedArticle(article, group, vectors[at:at + len(group)], sentences[rows],
                                        [owner_ids[i] for i in rows], signature))
        at += len(group)
    update = PreparedUpdate(prepared, list(deletes), sentence_vectors)
    if tokenizer is not None:
        pretokenize(update, tokenizer)
    return update


def pretokenize(update: PreparedUpdate, tokenizer: Tokenizer) -> None:
    """Tokenise the update's titles and paragraphs now, before the write lock, into `update.tokens`: its commit
    pins them in the tokenizer (index/tokenize.Tokenizer.pinned), so its Whoosh segment and postings find them
    instead of running jieba while every other write waits for the lock. They go with the update."""
    for article in update.upserts:
        for paragraph in article.paragraphs:
            for text in (paragraph.title, paragraph.text):
                if text not in update.tokens:
                    update.tokens[text] = tokenizer.tokens(text)
