"""PairEncoder: queries through one runtime, passages through another, in one vector space."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from index.model.embed import Encoder, ModelLoadError
from index.model.probe import PROBE_TEXTS, VECTOR_TOLERANCE, agreement


class PairEncoder:
    """Passages by `passages`; queries by the encoder `queries()` makes, loaded at the first query.

    Invariant: the query encoder is used only after its vectors of the probe texts were found to
    agree with the passage encoder's (cosine >= VECTOR_TOLERANCE); else the first query raises.
    """

    def __init__(self, queries: Callable[[], Encoder], passages: Encoder, query_side: str) -> None:
        self._make_queries = queries
        self.query_side = query_side  # "runtime/dtype" of the query encoder
        self._queries: Encoder | None = None
        self._lock = threading.Lock()
        self.passages = passages
        self.name = passages.name
        self.dim = passages.dim

    def _query_encoder(self) -> Encoder:
        with self._lock:
            if self._queries is None:
                queries = self._make_queries()
                least = agreement(self.passages.encode_queries(PROBE_TEXTS), queries.encode_queries(PROBE_TEXTS))
                if least < VECTOR_TOLERANCE:
                    raise ModelLoadError(f"query vectors of {queries.describe()['queries']} agree with "
                                         f"{self.passages.describe()['passages']} only to cosine {least:.4f}: "
                                         "set ZHSEARCH_MODEL_RUNTIME to torch or onnx")
                self._queries = queries
            return self._queries

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._query_encoder().encode_queries(texts)

    def encode_passages(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        return self.passages.encode_passages(texts, show_progress)

    def passage_lengths(self, texts: Sequence[str]) -> np.ndarray:
        return self.passages.passage_lengths(texts)

    def config(self) -> dict[str, object]:
        """The passage side's: it makes the index's vectors."""
        return self.passages.config()

    def describe(self) -> dict[str, str]:
        return {"queries": self.query_side, "passages": self.passages.describe()["passages"]}
