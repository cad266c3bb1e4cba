"""The collections of one corpus in Milvus, their fields and indexes.

<name>_paragraphs  one row a live paragraph: its text and article fields, filter fields, story,
                   BM25F sparse vector (index/milvus/sparse.py), term ids (for counting matches)
                   and its dense vector
<name>_sentences   one row a sentence vector of a multi-sentence paragraph, with the filter fields
<name>_articles    one row a live article: its fields as JSON (paragraph texts are the paragraphs'
                   rows), its story, and its MinHash signature and band keys (index/milvus/marks.py)
<name>_terms       the vocabulary: one row a (field, term), its sparse dimension and document frequency
<name>_meta        what the corpus was built with and its statistics (index/milvus/record.py)

Milvus needs a vector field in every collection (docs/milvus-notes.md §3): the last three carry a
constant two-dimensional one. Sparse vectors are searched with metric IP, exactly (DAAT_MAXSCORE,
nothing dropped); dense ones exactly (FLAT) below the ANN threshold, else with HNSW.
"""

from __future__ import annotations

from typing import Any

from index.ingest.minhash import BANDS, NUM_PERM
from index.milvus.connection import MilvusUnavailableError
from index.milvus.indexes import create_index, wait_for_indexes

MAX_ID = 1024  # bytes of an article or paragraph id (the API allows 256 characters: 768 bytes, + ".p000" or "~<12>")
MAX_TEXT = 65_535  # Milvus's VARCHAR limit, in bytes
MAX_SOURCE = 1024  # bytes of a source name
MAX_KEY = 2048  # bytes of a vocabulary or meta key (a longer term is keyed by its hash: index/milvus/rows.term_key)
MAX_TERMS = 4096  # Milvus's ARRAY limit: distinct (field, term) ids of one paragraph counted for `total`
PLACEHOLDER = [1.0, 0.0]  # the constant vector of collections that need one
HNSW = {"M": 16, "efConstruction": 200}
SPARSE_INDEX = {"inverted_index_algo": "DAAT_MAXSCORE"}  # exact top k with drop_ratio_search 0 (notes §1)


def _filters(schema: Any, DataType: Any) -> None:
    """The fields a Filter tests (search/milvus/expressions.py)."""
    schema.add_field("article_id", DataType.VARCHAR, max_length=MAX_ID)
    schema.add_field("source", DataType.VARCHAR, max_length=MAX_SOURCE)
    schema.add_field("date", DataType.VARCHAR, max_length=64)  # "" for none
    schema.add_field("date_len", DataType.INT8)  # len(date) when it starts with a year's digit, else 0


def paragraphs_schema(dim: int) -> Any:
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=MAX_ID)
    _filters(schema, DataType)
    schema.add_field("position", DataType.INT32)
    schema.add_field("title", DataType.VARCHAR, max_length=MAX_TEXT)
    schema.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT)
    schema.add_field("story", DataType.VARCHAR, max_length=MAX_ID)
    schema.add_field("title_len", DataType.INT32)  # exact token counts of the BM25F fields (the statistics' parts)
    schema.add_field("text_len", DataType.INT32)
    schema.add_field("avg_title", DataType.FLOAT)  # the average field lengths its `bm25` parts were made with
    schema.add_field("avg_text", DataType.FLOAT)
    schema.add_field("terms", DataType.ARRAY, element_type=DataType.INT64, max_capacity=MAX_TERMS)
    schema.add_field("bm25", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    return schema


def sentences_schema(dim: int) -> Any:
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=MAX_ID + 8)  # <paragraph id>#<n>
    schema.add_field("paragraph_id", DataType.VARCHAR, max_length=MAX_ID)
    _filters(schema, DataType)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    return schema


def keyed_schema(key_length: int, fields: dict[str, str]) -> Any:
    """A collection keyed by a string, with scalar `fields` (name -> "int64", "text" or "int64[n]": an array of n)
    and the placeholder vector."""
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=key_length)
    for name, kind in fields.items():
        if kind == "int64":
            schema.add_field(name, DataType.INT64)
        elif kind.startswith("int64["):
            schema.add_field(name, DataType.ARRAY, element_type=DataType.INT64, max_capacity=int(kind[6:-1]))
        else:
            schema.add_field(name, DataType.VARCHAR, max_length=MAX_TEXT)
    schema.add_field("placeholder", DataType.FLOAT_VECTOR, dim=len(PLACEHOLDER))
    return schema


def vector_index(rows: int, ann_threshold: int) -> tuple[str, dict[str, int]]:
    """The dense index for a collection of `rows` vectors: exact below the threshold, else HNSW."""
    return ("FLAT", {}) if rows < ann_threshold else ("HNSW", HNSW)


def create_collections(conn: Any, dim: int, paragraphs: int, sentences: int, ann_threshold: int) -> list[str]:
    """Create the five empty collections of a corpus (they must not exist) with their indexes, and load them.

    Scalar indexes only speed filters up: one that this Milvus refuses or fails to build (Milvus Lite indexes
    no arrays) is left out, and its name returned; a vector index that fails is MilvusUnavailableError."""
    filters = {"article_id": "INVERTED", "source": "INVERTED", "date": "INVERTED", "date_len": "INVERTED"}
    plans = [("paragraphs", paragraphs_schema(dim), ("vector", *vector_index(paragraphs, ann_threshold)), True,
              {**filters, "story": "INVERTED", "terms": "INVERTED"}),
             ("sentences", sentences_schema(dim), ("vector", *vector_index(sentences, ann_threshold)), False,
              {**filters, "paragraph_id": "INVERTED"}),
             ("articles", keyed_schema(MAX_ID, {"story": "text", "doc": "text", "bands": f"int64[{BANDS}]",
                                                "signature": f"int64[{NUM_PERM}]"}), ("placeholder", "FLAT", {}), False,
              {"story": "INVERTED", "bands": "INVERTED"}),
             ("terms", keyed_schema(MAX_KEY, {"term_id": "int64", "df": "int64"}), ("placeholder", "FLAT", {}), False, {}),
             ("meta", keyed_schema(MAX_KEY, {"value": "text"}), ("placeholder", "FLAT", {}), False, {})]
    refused = []
    for kind, schema, (vector_field, index_kind, params), sparse, scalars in plans:
        name = conn.collection(kind)
        conn.call(f"create {name}", "create_collection", name, schema=schema, consistency_level="Strong")
        found = conn.client.prepare_index_params()
        found.add_index(vector_field, index_type=index_kind, metric_type="IP", params=params)
        if sparse:
            found.add_index("bm25", index_type="SPARSE_INVERTED_INDEX", metric_type="IP", params=SPARSE_INDEX)
        create_index(conn, name, found, f"index {name}")
        for field, scalar in scalars.items():
            one = conn.client.prepare_index_params()
            one.add_index(field, index_type=scalar)
            try:
                create_index(conn, name, one, f"index {name}.{field}")
            except Exception:  # MilvusUnavailableError: this Milvus does without it
                refused.append(f"{name}.{field}")
        failed = wait_for_indexes(conn, name)
        vectors = [index for index in failed if index not in scalars]
        if vectors:
            raise MilvusUnavailableError(f"Milvus at {conn.location} failed to build the indexes {', '.join(vectors)} "
                                         f"of {name}")
        refused += [f"{name}.{index}" for index in failed]
        conn.call(f"load {name}", "load_collection", name)
    return refused


def existing(conn: Any) -> list[str]:
    """The collections of this corpus that exist."""
    names = set(conn.call("list collections", "list_collections"))
    return [conn.collection(kind) for kind in ALL_KINDS if conn.collection(kind) in names]


def load_all(conn: Any) -> None:
    """Load every collection of the corpus into memory where it is not (a restarted Milvus Lite; a server after
    a release): search, query and get need it. Idempotent."""
    for name in existing(conn):
        state = conn.call(f"read the load state of {name}", "get_load_state", name)
        if str(state.get("state", "")).rsplit(".", 1)[-1] != "Loaded":
            conn.call(f"load {name}", "load_collection", name)


def drop_collections(conn: Any) -> None:
    """Drop every collection of this corpus (those that exist)."""
    for name in existing(conn):
        conn.call(f"drop {name}", "drop_collection", name)


ALL_KINDS = ("paragraphs", "sentences", "articles", "terms", "meta")
