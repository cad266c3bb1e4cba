"""The commit point: what an index is made of (its segments and their deletions) and built with (model, tokenizer).

A commit point is a small JSON file, written whole and named by its generation
(index/commits.py); `CURRENT` names the latest. Everything it lists is immutable, so a reader
that opened one keeps a consistent view while writers add segments and later commit points.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, computed_field

from index.model.probe import VECTOR_TOLERANCE, agreement

FORMAT_VERSION = 3  # 3: segments and commit points; 2: one generation folder (`zhsearch upgrade` converts it)
PARSED_KEPT = 16  # commit points kept parsed per process (a write reads the newest three several times)


class IndexMismatchError(RuntimeError):
    """The index was built with another model, tokenizer or format than the one asked for."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class SegmentInfo(BaseModel):
    """One segment as a commit point lists it; `deletes` names its tombstone file (None: nothing deleted)."""

    model_config = ConfigDict(frozen=True)  # shared by every reader of a parsed commit point: change by model_copy
    name: str
    rows: int  # paragraphs written into the segment (deleted ones included)
    articles: int
    sentences: int = 0
    deletes: str | None = None
    deleted_rows: int = 0
    deleted_articles: int = 0
    vector_index: str = "exact"  # "exact" or "ivf<lists>"
    trained_rows: int = 0  # rows its IVF lists were trained on (0 for exact search)

    @property
    def live_rows(self) -> int:
        return self.rows - self.deleted_rows

    @property
    def live_articles(self) -> int:
        return self.articles - self.deleted_articles


class Manifest(BaseModel):
    """A commit point. The counts are the live ones (deleted paragraphs not counted)."""

    model_config = ConfigDict(frozen=True)  # shared by every reader of a parsed commit point: change by model_copy
    format_version: int = FORMAT_VERSION
    generation: int = 0
    created_at: str = Field(default_factory=now)
    model: dict[str, object]
    tokenizer: dict[str, object]
    sentence_vectors: bool = False  # built with a vector per sentence of multi-sentence paragraphs
    sources: list[str] = Field(default_factory=list)
    corpus_fingerprint: str = ""  # set by a full build; a later write clears it
    build_seconds: float = 0.0  # of the full build
    segments: list[SegmentInfo] = Field(default_factory=list)

    @computed_field
    @property
    def articles(self) -> int:
        return sum(s.live_articles for s in self.segments)

    @computed_field
    @property
    def paragraphs(self) -> int:
        return sum(s.live_rows for s in self.segments)

    @computed_field
    @property
    def vectors(self) -> int:
        return self.paragraphs

    @computed_field
    @property
    def sentences(self) -> int:
        """Sentence vectors held (those of deleted paragraphs included, until a merge drops them)."""
        return sum(s.sentences for s in self.segments)


_parsed: OrderedDict[tuple, Manifest] = OrderedDict()  # file identity -> its commit point, newest use last
_parsed_lock = threading.Lock()
_models: list[dict] = []  # distinct model records parsed, newest last: every commit point of an index shares one


def _shared_model(model: dict) -> dict:
    """An equal model record parsed before, else `model` (kept): a record carries the model's probe vectors
    (~90 KB parsed), and every commit point of an index repeats it. Invariant: nobody mutates a parsed record."""
    with _parsed_lock:
        for known in _models:
            if known == model:
                return known
        _models.append(model)
        del _models[:-PARSED_KEPT]
    return model


def read_manifest(path: Path) -> Manifest:
    """The commit point in file `path` (FileNotFoundError if absent).

    A commit point file is never changed once written (a new one is a new file, replaced atomically:
    another inode), so the parse of a file is kept by its identity (device, inode, size, mtime) and shared:
    a write reads the newest commit points several times, each ~0.5 ms of JSON for the model's probe.
    """
    with open(path, "rb") as handle:
        stat = os.fstat(handle.fileno())
        key = (str(path), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
        with _parsed_lock:
            found = _parsed.get(key)
            if found is not None:
                _parsed.move_to_end(key)
                return found
        raw = json.loads(handle.read().decode("utf-8"))
        if isinstance(raw, dict) and isinstance(raw.get("model"), dict):
            raw["model"] = _shared_model(raw["model"])
        found = Manifest.model_validate(raw)
    with _parsed_lock:
        _parsed[key] = found
        while len(_parsed) > PARSED_KEPT:
            _parsed.popitem(last=False)
    return found


def runtime_of(model: dict[str, object]) -> str:
    """"runtime/dtype" a model record names (an index from before runtimes: torch)."""
    return f"{model.get('runtime', 'torch')}/{model.get('dtype', 'float32')}"


def check_compatible(manifest: Manifest, model: dict[str, object], tokenizer: dict[str, object]) -> None:
    """Raise IndexMismatchError naming the difference and the fix, if the index disagrees."""
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index format {manifest.format_version}, this zhsearch reads {FORMAT_VERSION}: rebuild with `zhsearch index`"
        )
    check_built_with(manifest.model, manifest.tokenizer, model, tokenizer)


def check_built_with(built_model: dict[str, object], built_tokenizer: dict[str, object], model: dict[str, object],
                     tokenizer: dict[str, object], what: str = "index", rebuild: str = "rebuild with `zhsearch index`") -> None:
    """Raise IndexMismatchError naming the difference and the fix (`rebuild`) if an index (or another engine's
    corpus, `what`) was built with another model, other vectors or another tokenizer than those configured."""
    for key in ("name", "dim", "query_prompt", "passage_prompt"):
        if built_model.get(key) != model.get(key):
            raise IndexMismatchError(
                f"{what} built with model {key}={built_model.get(key)!r}, but {model.get(key)!r} is configured: "
                f"set ZHSEARCH_MODEL={built_model.get('name')} or {rebuild}"
            )
    recorded, current = built_model.get("probe"), model.get("probe")
    if recorded and current:  # both runtimes' vectors of the probe texts: do they share one space?
        least = agreement(recorded, current)  # type: ignore[arg-type]
        if least < VECTOR_TOLERANCE:
            built, now = runtime_of(built_model), runtime_of(model)
            raise IndexMismatchError(
                f"{what} vectors were made by {built}; {now} makes vectors at cosine {least:.4f} to them (below "
                f"{VECTOR_TOLERANCE}): set ZHSEARCH_MODEL_RUNTIME and ZHSEARCH_MODEL_DTYPE to {built}'s, or {rebuild}"
            )
    if built_tokenizer != tokenizer:
        raise IndexMismatchError(
            f"{what} built with tokenizer {built_tokenizer}, but {tokenizer} is configured: "
            f"use the same settings (ZHSEARCH_FOLD_TRADITIONAL, ZHSEARCH_USER_DICT) or {rebuild}"
        )
