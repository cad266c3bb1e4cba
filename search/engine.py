"""Wiring: settings -> tokenizer, encoder, snapshot -> Searcher (the model loaded once, segments reused on refresh)."""

from __future__ import annotations

from index.commits import current_name
from index.model.embed import Encoder, SentenceTransformerEncoder
from index.settings import Settings
from index.snapshot import Snapshot, open_snapshot
from index.tokenize import tokenizer_from
from search.dense import DensePart, DenseRetriever, SegmentDense
from search.hybrid import Searcher


def dense_retriever(snapshot: Snapshot, encoder: Encoder, settings: Settings) -> DenseRetriever:
    """The dense leg over every segment of `snapshot`, with the settings' probes and sentence weight."""
    parts = []
    for view in snapshot.views:
        segment = view.segment
        segment.vectors.nprobe = settings.ivf_nprobe
        if segment.sentences is not None:
            segment.sentences.store.nprobe = settings.sentence_nprobe
        parts.append(DensePart(SegmentDense(segment.vectors, segment.sentences, settings.sentence_weight),
                               view.base, segment.size, view.deleted))
    return DenseRetriever(encoder, parts)


def open_searcher(settings: Settings, encoder: Encoder | None = None, previous: Searcher | None = None) -> Searcher:
    """A Searcher over the current commit point of `settings.index_dir` (reusing `previous`'s open segments).

    Raises IndexNotFoundError or IndexMismatchError with the fix in the message.
    """
    current_name(settings.index_dir)  # fail fast, before loading the model
    tokenizer = tokenizer_from(settings)
    encoder = encoder or SentenceTransformerEncoder(settings)
    snapshot = open_snapshot(settings.index_dir, encoder.config(), tokenizer.config(),
                             previous.snapshot if previous is not None else None)
    return Searcher(snapshot, tokenizer, dense_retriever(snapshot, encoder, settings), settings)
