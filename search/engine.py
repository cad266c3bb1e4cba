"""Wiring: settings -> tokenizer, encoder, corpus -> Searcher (the model loaded once, segments reused on refresh)."""

from __future__ import annotations

from index.commits import current_name
from index.model.embed import Encoder
from index.model.runtime import load_encoder
from index.settings import Settings
from index.snapshot import open_snapshot
from index.tokenize import normalize, tokenizer_from
from search.embedded.corpus import EmbeddedCorpus
from search.hybrid import Searcher
from search.synonyms.rules import SynonymFile


def open_searcher(settings: Settings, encoder: Encoder | None = None, previous: Searcher | None = None) -> Searcher:
    """A Searcher over the current commit point of `settings.index_dir` (reusing `previous`'s open segments).

    Raises IndexNotFoundError, IndexMismatchError or SynonymFileError with the fix in the message.
    """
    if settings.backend == "milvus":
        return open_milvus_searcher(settings, encoder, previous)
    current_name(settings.index_dir)  # fail fast, before loading the model
    tokenizer = tokenizer_from(settings)
    synonyms = previous.bm25.synonyms if previous is not None else synonym_file(settings, tokenizer)  # fast too
    encoder = encoder or load_encoder(settings, serving=True)  # it encodes queries: ONNX Runtime, no torch
    before = previous.corpus if previous is not None and isinstance(previous.corpus, EmbeddedCorpus) else None
    snapshot = open_snapshot(settings.index_dir, encoder.config(), tokenizer.config(),
                             before.snapshot if before is not None else None)
    if before is not None and snapshot is before.snapshot:
        return previous  # the same commit point: the same searcher, its caches warm
    return Searcher(EmbeddedCorpus(snapshot, settings, before), tokenizer, encoder, settings, synonyms,
                    previous.text_cache if previous is not None else None)


def open_milvus_searcher(settings: Settings, encoder: Encoder | None = None, previous: Searcher | None = None) -> Searcher:
    """A Searcher over the Milvus corpus the settings name (search/milvus/corpus.py), reusing `previous` while its
    version is current."""
    from index.milvus.connection import connect
    from index.milvus.record import read_meta
    from search.milvus.corpus import MilvusCorpus, open_milvus_corpus

    tokenizer = tokenizer_from(settings)
    before = previous.corpus if previous is not None and isinstance(previous.corpus, MilvusCorpus) else None
    conn = before.conn if before is not None else connect(settings)
    if before is None:
        read_meta(conn)  # fail fast (no Milvus, no corpus), before loading the model
    synonyms = previous.bm25.synonyms if previous is not None else synonym_file(settings, tokenizer)
    encoder = encoder or load_encoder(settings, serving=True)
    corpus = open_milvus_corpus(conn, settings, encoder.config(), tokenizer, before)
    if corpus is before:
        return previous  # type: ignore[return-value]
    return Searcher(corpus, tokenizer, encoder, settings, synonyms, previous.text_cache if previous is not None else None)


def synonym_file(settings: Settings, tokenizer) -> SynonymFile | None:
    """The configured synonym file, read (SynonymFileError names the fix), or None."""
    if settings.synonyms is None:
        return None
    return SynonymFile(settings.synonyms, lambda text: normalize(text, tokenizer.fold_traditional))
