"""Wiring: settings -> tokenizer, encoder, snapshot -> Searcher (each loaded once)."""

from __future__ import annotations

from index.generations import current_generation
from index.model.embed import Encoder, SentenceTransformerEncoder
from index.settings import Settings
from index.snapshot import open_snapshot
from index.tokenize import tokenizer_from
from search.dense import DenseRetriever
from search.hybrid import Searcher


def open_searcher(settings: Settings, encoder: Encoder | None = None) -> Searcher:
    """A Searcher over the current index of `settings.index_dir`.

    Raises IndexNotFoundError or IndexMismatchError with the fix in the message.
    """
    current_generation(settings.index_dir)  # fail fast, before loading the model
    tokenizer = tokenizer_from(settings)
    encoder = encoder or SentenceTransformerEncoder(settings)
    snapshot = open_snapshot(settings.index_dir, encoder.config(), tokenizer.config())
    snapshot.vectors.nprobe = settings.ivf_nprobe
    if snapshot.sentences is not None:
        snapshot.sentences.store.nprobe = settings.sentence_nprobe
    dense = DenseRetriever(encoder, snapshot.vectors, snapshot.sentences, settings.sentence_weight)
    return Searcher(snapshot, tokenizer, dense, settings)
