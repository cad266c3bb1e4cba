"""A corpus in Milvus for tests: an index built with the fake encoder and exported into Milvus Lite (one database
file per test module, under its temporary folder), or into the server ZHSEARCH_TEST_MILVUS_URI names (a collection
per process and module, dropped after)."""

from __future__ import annotations

import os
from pathlib import Path

from index.builder import build_index
from index.milvus.connection import connect
from index.milvus.export import export_index
from index.milvus.schema import drop_collections
from index.settings import Settings
from index.tokenize import tokenizer_from

SERVER = os.environ.get("ZHSEARCH_TEST_MILVUS_URI")


def milvus_settings(settings: Settings, folder: Path, name: str) -> Settings:
    """`settings` pointed at the test Milvus (Lite in `folder` unless a server is named), backend milvus."""
    return settings.model_copy(update={"backend": "milvus", "milvus_uri": SERVER or str(folder / "milvus.db"),
                                       "milvus_collection": f"{name}_{os.getpid()}", "milvus_timeout_s": 30})


def export_corpus(settings: Settings, articles, encoder) -> None:
    """Build `settings.index_dir` from `articles` and copy it into the Milvus `settings` name."""
    build_index(settings.index_dir, articles, tokenizer_from(settings), encoder, ["test"], quiet=True)
    conn = connect(settings)
    try:
        export_index(settings.index_dir, conn, settings.ann_threshold, replace=True, quiet=True)
    finally:
        conn.close()


def drop_corpus(settings: Settings) -> None:
    conn = connect(settings)
    try:
        drop_collections(conn)
    finally:
        conn.close()
