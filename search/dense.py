"""Dense retriever: the query encoded once, nearest paragraphs by cosine in FAISS."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from index.embed import Encoder
from index.vector_store import VectorStore
from search.fusion import Ranked


class DenseRetriever:
    """query, k -> paragraphs ranked by cosine similarity of unit vectors."""

    def __init__(self, encoder: Encoder, store: VectorStore) -> None:
        self.encoder = encoder
        self.store = store

    def encode(self, queries: Sequence[str]) -> np.ndarray:
        return self.encoder.encode_queries(list(queries))

    def search_vectors(self, vectors: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[Ranked]:
        """Ranked paragraphs for each query vector (only among `rows` when given)."""
        return self.store.search(vectors, k, rows)

    def search(self, text: str, k: int, rows: np.ndarray | None = None) -> Ranked:
        """The top `k` paragraphs for one query (only among `rows` when given)."""
        return self.search_vectors(self.encode([text]), k, rows)[0]
