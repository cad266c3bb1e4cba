"""Dense retrieval: the query encoded once by the model, its nearest paragraphs by (blended) cosine from the Corpus.

How an engine blends a paragraph's score with its best sentence's is the Corpus's contract
(search/corpus.py); the embedded engine's is search/embedded/segment_dense.py.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from index.model.embed import Encoder
from search.corpus import Corpus
from search.filters import NO_FILTER, Filter
from search.fusion import Ranked


class DenseRetriever:
    """query, k -> paragraphs of a corpus ranked by their (blended) cosine: the model encodes, the corpus searches."""

    def __init__(self, encoder: Encoder, corpus: Corpus) -> None:
        self.encoder = encoder
        self.corpus = corpus

    def encode(self, queries: Sequence[str]) -> np.ndarray:
        return self.encoder.encode_queries(list(queries))

    def search_vectors(self, vectors: np.ndarray, k: int, flt: Filter = NO_FILTER) -> list[Ranked]:
        """Ranked paragraphs meeting `flt` for each query vector."""
        return self.corpus.dense(vectors, k, flt)

    def search(self, text: str, k: int, flt: Filter = NO_FILTER) -> Ranked:
        """The top `k` paragraphs meeting `flt` for one query."""
        return self.search_vectors(self.encode([text]), k, flt)[0]
