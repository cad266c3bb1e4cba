"""Near-duplicate marks of articles written into a Milvus corpus: the same rule as the embedded index's
(index/store/minhash_store.story_keys), over the articles Milvus holds that could matter.

Those are the articles sharing a band key with a new article (`bands`, an array searched with
array_contains_any) and those marked with a new article's id as their story (a replaced or reused
id then gets a fresh story key). They are read once per commit into a DuplicateStore, and the
rule runs on it unchanged.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from index.ingest.minhash import band_keys, eligible
from index.milvus.connection import Connection
from index.store.minhash_store import DuplicateStore, story_keys

WINDOW = 16_384


def quoted_list(values: Sequence[str]) -> str:
    import json

    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def neighbours(conn: Connection, signatures: np.ndarray, ids: Sequence[str]) -> DuplicateStore:
    """The articles in Milvus that share a band key with one of `signatures`, or whose story is one of `ids`."""
    rows = eligible(signatures)
    keys = sorted(set(band_keys(signatures[rows]).view(np.int64).ravel().tolist())) if rows.any() else []
    clauses = [f"story in {quoted_list(list(ids))}"] if ids else []
    if keys:
        clauses.append(f"array_contains_any(bands, [{', '.join(map(str, keys))}])")
    if not clauses:
        return DuplicateStore.build([], np.zeros((0, signatures.shape[1]), np.uint32), {})
    found = conn.call("read near-duplicate candidates", "query", conn.collection("articles"),
                      filter=" or ".join(f"({c})" for c in clauses), output_fields=["id", "story", "signature"],
                      limit=WINDOW)
    known = [row["id"] for row in found]
    matrix = np.array([row["signature"] for row in found], dtype=np.int64).astype(np.uint32).reshape(len(found), -1) \
        if found else np.zeros((0, signatures.shape[1]), np.uint32)
    return DuplicateStore.build(known, matrix, {row["id"]: row["story"] for row in found})


def stories_of(conn: Connection, ids: Sequence[str], signatures: np.ndarray, live: Callable[[str], bool]) -> dict[str, str]:
    """The story of each new article (in order), marked against the live articles Milvus holds and those before it."""
    return story_keys(list(ids), signatures, [(neighbours(conn, signatures, ids), live)])
