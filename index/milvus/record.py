"""What a Milvus corpus was built with (its record) and its statistics, kept as rows of <name>_meta.

The record (model with its probe vectors, tokenizer, sentence vectors, sources) is checked when
the corpus is opened, as an index's manifest is (index/manifest.check_built_with). The statistics
are what BM25F needs at query time: the live paragraph count and each field's total length; `version`
counts the commits that changed the corpus (a service's caches are per version). A commit counts the
articles it changes in `pending` before it changes anything and clears it with the new statistics:
statistics found with `pending` set were left by a commit cut short (index/milvus/writer.py repairs them).
Each source's live paragraph count is a row of its own (`source:<name>`), so that no row grows with
the corpus.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

from index.manifest import check_built_with, now
from index.milvus.connection import Connection
from index.milvus.schema import PLACEHOLDER

FORMAT_VERSION = 1
RECORD_KEY, STATS_KEY = "record", "stats"


class CorpusNotFoundError(RuntimeError):
    """No corpus of this name in that Milvus (or one only partly written)."""


class CorpusRecord(BaseModel):
    """What a corpus in Milvus was built with."""

    format_version: int = FORMAT_VERSION
    model: dict[str, object]
    tokenizer: dict[str, object]
    sentence_vectors: bool = False
    vector_index: dict[str, str] = Field(default_factory=dict)  # collection kind -> FLAT or HNSW
    corpus_fingerprint: str = ""  # the source corpus, as `zhsearch index` fingerprints it ("" after a write)
    exported_from: str = ""  # "<index folder>@<commit point>" of an export
    created_at: str = Field(default_factory=now)
    build_seconds: float = 0.0


class CorpusStats(BaseModel):
    """The live corpus's counts; updated by every commit."""

    version: int = 0
    articles: int = 0
    paragraphs: int = 0
    sentences: int = 0
    lengths: dict[str, int] = Field(default_factory=dict)  # field -> total exact length over live paragraphs
    averages: dict[str, float] = Field(default_factory=dict)  # field -> the live average (total / paragraphs)
    baked: dict[str, list[float]] = Field(default_factory=dict)  # field -> [least, most] average stored parts were made with
    next_term: int = 0  # the next sparse dimension to hand out
    copies: int = 0  # live articles marked as a copy of another (0: every story is one article)
    pending: int = 0  # articles a commit is changing (0 once it is done)
    pending_since: float = 0.0  # when that commit began (seconds since the epoch)


def meta_row(key: str, model: BaseModel) -> dict[str, object]:
    return {"id": key, "value": model.model_dump_json(), "placeholder": PLACEHOLDER}


SOURCE_PREFIX = "source:"


def write_sources(conn: Connection, counts: dict[str, int]) -> None:
    """Set these sources' live paragraph counts (a count of 0 removes the source)."""
    from index.milvus.rows import checked_key

    gone = [SOURCE_PREFIX + s for s, c in counts.items() if c <= 0]
    kept = [{"id": checked_key(SOURCE_PREFIX + s), "value": str(c), "placeholder": PLACEHOLDER}
            for s, c in counts.items() if c > 0]
    for start in range(0, len(kept), 1000):
        conn.call("write the sources", "upsert", conn.collection("meta"), kept[start:start + 1000])
    for start in range(0, len(gone), 256):
        conn.call("remove sources", "delete", conn.collection("meta"), ids=gone[start:start + 256])


def read_sources(conn: Connection) -> dict[str, int]:
    """source -> live paragraphs from it."""
    found: dict[str, int] = {}
    for page in conn.rows("meta", f'id like "{SOURCE_PREFIX}%"', ["id", "value"], "read the sources"):
        found.update((row["id"][len(SOURCE_PREFIX):], int(row["value"])) for row in page)
    return found


def write_meta(conn: Connection, record: CorpusRecord | None, stats: CorpusStats) -> None:
    """Upsert the stats (and the record, when given)."""
    rows = [meta_row(STATS_KEY, stats)] + ([meta_row(RECORD_KEY, record)] if record is not None else [])
    conn.call("write the corpus statistics", "upsert", conn.collection("meta"), rows)


def read_meta(conn: Connection) -> tuple[CorpusRecord, CorpusStats]:
    """The record and statistics of the corpus (CorpusNotFoundError if absent)."""
    from index.milvus.schema import ALL_KINDS, load_all

    names = set(conn.call("list collections", "list_collections"))
    missing = [kind for kind in ALL_KINDS if conn.collection(kind) not in names]
    if missing:
        raise CorpusNotFoundError(
            f"no corpus {conn.name!r} in Milvus at {conn.location.rsplit('#', 1)[0]} (missing {', '.join(missing)}): "
            f"copy an index in with `zhsearch export --index-dir DIR --to URI --collection {conn.name}`")
    load_all(conn)
    found = conn.by_id("meta", [RECORD_KEY, STATS_KEY], ["id", "value"], "read the corpus record")
    values = {row["id"]: json.loads(row["value"]) for row in found}
    if RECORD_KEY not in values or STATS_KEY not in values:
        raise CorpusNotFoundError(f"corpus {conn.name!r} in Milvus was not written to the end (no record): "
                                  "export it again with `zhsearch export ... --replace`")
    return CorpusRecord.model_validate(values[RECORD_KEY]), CorpusStats.model_validate(values[STATS_KEY])


def check_record(record: CorpusRecord, model: dict[str, object], tokenizer: dict[str, object], name: str) -> None:
    """IndexMismatchError naming the fix if the corpus was built otherwise than configured."""
    from index.manifest import IndexMismatchError

    if record.format_version != FORMAT_VERSION:
        raise IndexMismatchError(f"Milvus corpus {name!r} has format {record.format_version}, this zhsearch reads "
                                 f"{FORMAT_VERSION}: export it again with `zhsearch export ... --replace`")
    check_built_with(record.model, record.tokenizer, model, tokenizer, what=f"Milvus corpus {name!r}",
                     rebuild="export it again with `zhsearch export ... --replace`")
