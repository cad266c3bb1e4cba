"""Wiring: settings -> tokenizer, encoder, snapshot -> Searcher (the model loaded once, segments reused on refresh)."""

from __future__ import annotations

from index.commits import current_name
from index.model.embed import Encoder, SentenceTransformerEncoder
from index.settings import Settings
from index.snapshot import Snapshot, open_snapshot
from index.tokenize import tokenizer_from
from search.dense import DensePart, DenseRetriever, SegmentDense
from search.hybrid import Searcher


def dense_retriever(snapshot: Snapshot, encoder: Encoder, settings: Settings,
                    previous: DenseRetriever | None = None) -> DenseRetriever:
    """The dense leg over every segment of `snapshot`, with the settings' probes and sentence weight; a segment
    whose deletions `previous` already searched keeps its part (and its FAISS selectors)."""
    reuse = {(id(p.search.store), id(p.deleted_key)): p.search for p in previous.parts} if previous is not None else {}
    parts = []
    for view in snapshot.views:
        segment = view.segment
        segment.vectors.nprobe = settings.ivf_nprobe
        if segment.sentences is not None:
            segment.sentences.store.nprobe = settings.sentence_nprobe
        search = reuse.get((id(segment.vectors), id(view.deletions)))
        if search is None or search.sentence_weight != settings.sentence_weight:
            search = SegmentDense(segment.vectors, segment.sentences, settings.sentence_weight, view.deleted)
        parts.append(DensePart(search, view.base, segment.size, view.deletions))
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
    if previous is not None and snapshot is previous.snapshot:
        return previous  # the same commit point: the same searcher, its caches warm
    dense = dense_retriever(snapshot, encoder, settings, previous.dense if previous is not None else None)
    return Searcher(snapshot, tokenizer, dense, settings)
