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
from index.milvus.connection import Connection, one_of
from index.store.minhash_store import DuplicateStore, story_keys

KEYS = 8192  # band keys in one condition (about 160 kB of expression)


def neighbours(conn: Connection, signatures: np.ndarray, ids: Sequence[str]) -> DuplicateStore:
    """The articles in Milvus that share a band key with one of `signatures`, or whose story is one of `ids`."""
    rows = eligible(signatures)
    keys = sorted(set(band_keys(signatures[rows]).view(np.int64).ravel().tolist())) if rows.any() else []
    conditions = [one_of("story", list(ids[i:i + 256])) for i in range(0, len(ids), 256)]
    conditions += [f"array_contains_any(bands, [{', '.join(map(str, keys[i:i + KEYS]))}])"
                   for i in range(0, len(keys), KEYS)]
    found: dict[str, dict] = {}
    for condition in conditions:
        for page in conn.rows("articles", condition, ["id", "story", "signature"], "read near-duplicate candidates"):
            found.update((row["id"], row) for row in page)
    known = list(found)
    matrix = np.array([found[aid]["signature"] for aid in known], dtype=np.int64).astype(np.uint32).reshape(len(known), -1) \
        if known else np.zeros((0, signatures.shape[1]), np.uint32)
    return DuplicateStore.build(known, matrix, {aid: found[aid]["story"] for aid in known})


def stories_of(conn: Connection, ids: Sequence[str], signatures: np.ndarray, live: Callable[[str], bool]) -> dict[str, str]:
    """The story of each new article (in order), marked against the live articles Milvus holds and those before it."""
    return story_keys(list(ids), signatures, [(neighbours(conn, signatures, ids), live)])
