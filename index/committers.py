"""What a write commits through, for either engine: prepared updates (index/update.prepare) in, one outcome each out.

The service's group commit, and anything else that writes prepared updates, asks `committer_for` and
calls `commit`; the embedded index (index/writer.commit_prepared: a segment and a commit point) and
a Milvus corpus (index/milvus/writer.py) implement it with the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Sequence

from index.settings import Settings
from index.tokenize import Tokenizer
from index.update import PreparedUpdate
from index.writer import commit_prepared


class Committer(Protocol):
    def commit(self, batch: Sequence[PreparedUpdate]) -> list[Exception | None]:
        """Apply `batch` in order as one commit, visible once this returns; each update's error or None (an
        unknown delete fails alone); an error raised fails the whole batch."""


@dataclass(frozen=True)
class EmbeddedCommitter:
    index_dir: Path
    tokenizer: Tokenizer
    model: dict[str, object]
    ann_threshold: int

    def commit(self, batch: Sequence[PreparedUpdate]) -> list[Exception | None]:
        return commit_prepared(self.index_dir, list(batch), self.tokenizer, self.model,
                               ann_threshold=self.ann_threshold)[1]


def committer_for(settings: Settings, tokenizer: Tokenizer, model: dict[str, object], conn: Any = None) -> Committer:
    """The committer of the configured engine; `conn`: an open Milvus connection to reuse (else one is made)."""
    if settings.backend == "milvus":
        from index.milvus.connection import connect
        from index.milvus.writer import MilvusWriter

        return MilvusWriter(conn if conn is not None else connect(settings), tokenizer, model)
    return EmbeddedCommitter(settings.index_dir, tokenizer, model, settings.ann_threshold)
