"""What an index was built with (model, dimension, tokenizer, counts), checked when it is opened."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field

MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 2  # 2: paragraph vectors carry the title only for single-paragraph articles


class IndexMismatchError(RuntimeError):
    """The index was built with another model or tokenizer than the one asked for."""


class Manifest(BaseModel):
    """Written last into a finished index folder: its presence means the folder is complete."""

    format_version: int = FORMAT_VERSION
    created_at: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    model: dict[str, object]
    tokenizer: dict[str, object]
    articles: int
    paragraphs: int
    vectors: int
    sentence_vectors: bool = False  # built with a vector per sentence of multi-sentence paragraphs
    sentences: int = 0  # how many sentence vectors
    build_seconds: float
    sources: list[str] = Field(default_factory=list)
    corpus_fingerprint: str = ""


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Write `manifest.json` with fsync and an atomic rename (never half-written)."""
    path = folder / MANIFEST_FILE
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(manifest.model_dump_json(indent=2))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_manifest(folder: Path) -> Manifest:
    """The manifest of the index in `folder` (FileNotFoundError if absent)."""
    return Manifest.model_validate(json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8")))


def check_compatible(manifest: Manifest, model: dict[str, object], tokenizer: dict[str, object]) -> None:
    """Raise IndexMismatchError naming the difference and the fix, if the index disagrees."""
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index format {manifest.format_version}, this zhsearch reads {FORMAT_VERSION}: rebuild with `zhsearch index`"
        )
    for key in ("name", "dim", "query_prompt", "passage_prompt"):
        if manifest.model.get(key) != model.get(key):
            raise IndexMismatchError(
                f"index built with model {key}={manifest.model.get(key)!r}, but {model.get(key)!r} is configured: "
                f"set ZHSEARCH_MODEL={manifest.model.get('name')} or rebuild with `zhsearch index`"
            )
    if manifest.tokenizer != tokenizer:
        raise IndexMismatchError(
            f"index built with tokenizer {manifest.tokenizer}, but {tokenizer} is configured: "
            "use the same settings (ZHSEARCH_FOLD_TRADITIONAL, ZHSEARCH_USER_DICT) or rebuild with `zhsearch index`"
        )
