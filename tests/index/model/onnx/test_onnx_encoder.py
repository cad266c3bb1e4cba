"""The ONNX runtime encodes the default model as the torch runtime does: same tokens, same vector space."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, strategies as st

from conftest import CACHE_DIR
from index.model.cpu import cpu_features, native_int8_dot
from index.model.embed import SentenceTransformerEncoder
from index.model.onnx.encoder import PASS_COST, cheapest_cuts, pad, passes
from index.model.pooling import pool
from index.model.probe import PROBE_TEXTS, VECTOR_TOLERANCE, agreement
from index.model.runtime import SERVING_PASS_TOKENS, load_encoder
from index.settings import Settings

TEXTS = [
    "送餐小哥春节怎么过",
    "  工匠学院  ",  # sentence-transformers strips
    "臺灣的颱風季節通常在夏天和秋天。",
    "2024年第三季度，OpenAI 与 Google 在大模型领域的竞争愈发激烈，GPU 价格上涨 15%。",
    "Ｆｕｌｌ－ｗｉｄｔｈ　ＡＢＣ１２３",
    "工会" * 400,  # truncated to the model's 512 tokens
    "🙂",
]


@pytest.fixture(scope="module")
def torch32() -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder(Settings(cache_dir=CACHE_DIR), "float32")


@pytest.fixture(scope="module")
def onnx():
    return load_encoder(Settings(cache_dir=CACHE_DIR, model_runtime="onnx", model_dtype="auto"))  # whatever the env says


def test_auto_dtypes_are_int8_for_a_lone_query_and_float32_for_the_rest(onnx):
    assert onnx.describe() == {"queries": "onnx/int8", "query_batches": "onnx/float32", "passages": "onnx/float32"}
    assert onnx.config()["runtime"] == "onnx" and onnx.config()["dtype"] == "float32"


def test_token_ids_are_the_ones_sentence_transformers_feeds(onnx, torch32):
    model = torch32._model
    for prompt in (onnx.query_prompt, onnx.passage_prompt):
        want = model.tokenize([prompt + t for t in TEXTS])
        for i, ids in enumerate(onnx.token_ids(TEXTS, prompt)):
            length = int(want["attention_mask"][i].sum())
            assert ids == want["input_ids"][i][:length].tolist()
    assert onnx.passage_lengths(TEXTS).tolist() == torch32.passage_lengths(TEXTS).tolist()


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


def test_passages_in_float32_equal_torchs(onnx, torch32):
    assert cosines(onnx.encode_passages(TEXTS), torch32.encode_passages(TEXTS)).min() > 0.99999


def test_lone_queries_in_int8_stay_in_the_space_and_batches_are_float32(onnx, torch32):
    alone = np.vstack([onnx.encode_queries([t]) for t in TEXTS])  # int8
    assert cosines(alone, torch32.encode_queries(TEXTS)).min() > 0.9995
    assert cosines(onnx.encode_queries(TEXTS), torch32.encode_queries(TEXTS)).min() > 0.99999  # a batch: float32


def test_a_batch_encodes_each_text_as_alone(onnx):
    together = onnx.encode_passages(TEXTS)
    alone = np.vstack([onnx.encode_passages([t]) for t in TEXTS])
    assert cosines(together, alone).min() > 0.99999
    assert onnx.encode_queries([]).shape == (0, 384)


def test_probe_agrees_across_runtimes(onnx, torch32):
    assert agreement(onnx.config()["probe"], torch32.config()["probe"]) > 0.9999
    assert len(onnx.config()["probe"]) == len(PROBE_TEXTS)


def test_pad_and_mean_pool_ignore_padding():
    ids, mask = pad([[5, 6, 7], [8]])
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]] and mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    hidden = np.arange(2 * 3 * 2, dtype=np.float32).reshape(2, 3, 2)
    assert pool(hidden, mask, "mean").tolist() == [[(0 + 2 + 4) / 3, (1 + 3 + 5) / 3], [6.0, 7.0]]
    assert pool(hidden, mask, "cls").tolist() == [[0.0, 1.0], [6.0, 7.0]]


@given(st.lists(st.integers(1, 512), max_size=60), st.integers(1, 20), st.one_of(st.none(), st.integers(1, 4096)))
def test_passes_cover_every_row_once_shortest_first_within_their_bounds(lengths, rows, tokens):
    found = passes(lengths, rows, tokens)
    flat = [int(i) for p in found for i in p]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths)  # shortest first: little padding
    for p in found:
        assert 1 <= len(p) <= rows
        if tokens is not None and len(p) > 1:
            assert len(p) * max(lengths[i] for i in p) <= tokens
    if tokens is None:  # a build's: fixed numbers of rows
        assert [len(p) for p in found[:-1]] == [rows] * (len(found) - 1)


def _cost(ascending: list[int], cuts: list[int]) -> int:
    return sum((end - start) * ascending[end - 1] + PASS_COST for start, end in zip(cuts, cuts[1:]))


@given(st.lists(st.integers(1, 300), max_size=9), st.integers(1, 6), st.integers(1, 1200))
def test_cheapest_cuts_are_the_cheapest_of_every_allowed_cutting(lengths, rows, tokens):
    ascending = sorted(lengths)
    n = len(ascending)
    allowed = []
    for inner in itertools.product([False, True], repeat=max(0, n - 1)):  # every cutting of n rows into passes
        cuts = [0] + [i + 1 for i, cut in enumerate(inner) if cut] + [n] if n else [0]
        if all(end - start <= rows and (end - start == 1 or (end - start) * ascending[end - 1] <= tokens)
               for start, end in zip(cuts, cuts[1:])):
            allowed.append(cuts)
    found = cheapest_cuts(ascending, rows, tokens)
    assert found in allowed
    assert _cost(ascending, found) == min(_cost(ascending, cuts) for cuts in allowed)


def test_a_writes_mixed_lengths_pad_little():
    """A write's texts (3 paragraphs, their sentences): the passes compute few more tokens than the texts hold."""
    lengths = [75, 137, 149, 17, 20, 20, 21, 25, 25, 25, 28, 34, 43, 48, 49, 53]
    computed = sum(len(p) * max(lengths[i] for i in p) for p in passes(lengths, 16, SERVING_PASS_TOKENS))
    assert computed <= 1.05 * sum(lengths)  # cut greedily (as many rows as a pass allows): 1,136 tokens, x1.48


def test_a_service_bounds_its_passes_and_encodes_the_same_vectors(onnx):
    """A service's passes compute at most SERVING_PASS_TOKENS tokens, so what one long article can take is bounded."""
    served = load_encoder(Settings(cache_dir=CACHE_DIR, model_runtime="onnx", model_dtype="float32"), serving=True)
    assert served.max_tokens == SERVING_PASS_TOKENS and onnx.max_tokens is None  # a build's passes are not bounded
    for encoder in (served, onnx):  # no memory plans kept per input shape (index/model/onnx/encoder.session)
        assert not any(s.get_session_options().enable_mem_pattern for s in encoder._sessions.values())
    served.warm_up()
    long = ["工会" * 400, "职工" * 300, *TEXTS]
    assert cosines(served.encode_passages(long), onnx.encode_passages(long)).min() > 0.99999


@pytest.mark.skipif(not native_int8_dot(cpu_features()), reason="8-bit int8 GEMM writes only with VNNI")
def test_a_services_writes_in_int8_gemm_stay_in_the_float32_space(onnx):
    served = load_encoder(Settings(cache_dir=CACHE_DIR, model_runtime="onnx", model_dtype="auto"), serving=True)
    assert served.describe()["passages"] == "onnx/int8-gemm" and served.config()["dtype"] == "int8-gemm"
    texts = ["工会" * 400, *TEXTS, *PROBE_TEXTS]
    assert cosines(served.encode_passages(texts), onnx.encode_passages(texts)).min() > 0.9995
    assert agreement(onnx.probe(), served.encode_passages(PROBE_TEXTS)) > 0.9995  # it opens float32 indexes


def test_7_bit_int8_gemm_passages_stay_in_the_float32_space_on_any_cpu(onnx):
    """int8 GEMM with 7-bit weights runs on every CPU (AVX2 sums its products exactly; `make test-avx2` runs this
    as AVX2) and its vectors open float32 indexes."""
    built = load_encoder(Settings(cache_dir=CACHE_DIR, model_runtime="onnx", model_dtype="int8-gemm-7"))
    assert built.describe()["passages"] == "onnx/int8-gemm-7" and built.config()["dtype"] == "int8-gemm-7"
    texts = ["工会" * 400, *TEXTS, *PROBE_TEXTS]
    assert cosines(built.encode_passages(texts), onnx.encode_passages(texts)).min() > 0.999
    assert agreement(onnx.probe(), built.probe()) > VECTOR_TOLERANCE
