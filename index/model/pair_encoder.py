"""PairEncoder: a lone query through one runtime, everything else through another, in one vector space."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from index.model.embed import QUERY_BATCH, Encoder, ModelLoadError
from index.model.probe import PROBE_TEXTS, VECTOR_TOLERANCE, agreement


class PairEncoder:
    """Fewer than `batch` queries at once by the encoder `lone()` makes (at the first such call); more,
    and passages, by `rest`.

    Invariant: the lone encoder is used only after its vectors of the probe texts were found to
    agree with `rest`'s (cosine >= VECTOR_TOLERANCE); else that first call raises.
    """

    def __init__(self, lone: Callable[[], Encoder], rest: Encoder, lone_side: str, batch: int = QUERY_BATCH) -> None:
        self._make_lone = lone
        self._lone: Encoder | None = None
        self._refused: ModelLoadError | None = None
        self._lock = threading.Lock()
        self.rest = rest
        self.lone_side = lone_side  # "runtime/dtype" of the lone encoder
        self.batch = batch
        self.name = rest.name
        self.dim = rest.dim
        self.runtime = getattr(rest, "runtime", "torch")  # what encodes its batches and passages (the service sizes torch's threads by it)

    def _lone_encoder(self) -> Encoder:
        with self._lock:
            if self._refused is not None:  # checked once: a disagreeing runtime is not loaded again at every query
                raise self._refused
            if self._lone is None:
                lone = self._make_lone()
                least = agreement(self.rest.encode_queries(PROBE_TEXTS), lone.encode_queries(PROBE_TEXTS))
                if least < VECTOR_TOLERANCE:
                    self._refused = ModelLoadError(f"query vectors of {self.lone_side} agree with "
                                                   f"{self.rest.describe()['passages']} only to cosine {least:.4f}: "
                                                   "set ZHSEARCH_MODEL_RUNTIME to torch or onnx")
                    raise self._refused
                self._lone = lone
            return self._lone

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if 0 < len(texts) < self.batch:
            return self._lone_encoder().encode_queries(texts)
        return self.rest.encode_queries(texts)

    def encode_passages(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        return self.rest.encode_passages(texts, show_progress)

    def passage_lengths(self, texts: Sequence[str]) -> np.ndarray:
        return self.rest.passage_lengths(texts)

    def config(self) -> dict[str, object]:
        """The passage side's: it makes the index's vectors."""
        return self.rest.config()

    def describe(self) -> dict[str, str]:
        rest = self.rest.describe()["passages"]
        return {"queries": self.lone_side, "query_batches": rest, "passages": rest}
