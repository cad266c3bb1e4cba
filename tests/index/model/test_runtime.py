"""Which runtime and arithmetic encode a lone query, a batch of queries and passages (runtime.plan)."""

import pytest

from index.model.embed import ModelLoadError
from index.model.runtime import Plan, plan

ONNX_AUTO = Plan(("onnx", "int8"), ("onnx", "float32"), ("onnx", "float32"))
SERVICE_AUTO = Plan(("onnx", "int8"), ("onnx", "float32"), ("onnx", "int8-gemm-7"))  # writes: 7-bit int8 GEMM
BF16_AUTO = Plan(("onnx", "int8"), ("torch", "bfloat16"), ("torch", "bfloat16"))


def same(side):
    return Plan(side, side, side)


@pytest.mark.parametrize("runtime, dtype, bf16, four_bit, expected", [
    # auto on the default (4-bit) model: a lone query on ONNX Runtime in int8 ...
    ("auto", "auto", False, True, ONNX_AUTO),
    # ... batches and passages in bfloat16 on torch where the CPU computes it
    ("auto", "auto", True, True, BF16_AUTO),
    # a number type named: the runtime that computes it, every side
    ("auto", "float32", True, True, same(("onnx", "float32"))),
    ("auto", "int8", False, True, same(("onnx", "int8"))),
    ("auto", "bfloat16", False, True, same(("torch", "bfloat16"))),
    # another model: torch under auto
    ("auto", "auto", True, False, same(("torch", "bfloat16"))),
    ("auto", "auto", False, False, same(("torch", "float32"))),
    # runtimes named
    ("torch", "auto", False, True, same(("torch", "float32"))),
    ("torch", "auto", True, True, same(("torch", "bfloat16"))),
    ("onnx", "auto", True, True, ONNX_AUTO),
    ("onnx", "auto", False, False, same(("onnx", "float32"))),
    ("onnx", "float32", False, True, same(("onnx", "float32"))),
])
def test_plan(runtime, dtype, bf16, four_bit, expected):
    assert plan(runtime, dtype, bf16, four_bit) == expected


@pytest.mark.parametrize("runtime, dtype, bf16, four_bit, expected", [
    ("auto", "auto", True, True, SERVICE_AUTO),  # a service: ONNX Runtime even where torch computes bfloat16
    ("auto", "auto", False, True, SERVICE_AUTO),
    ("auto", "auto", True, False, same(("torch", "bfloat16"))),  # another model: torch, as ever
    ("auto", "bfloat16", True, True, same(("torch", "bfloat16"))),  # named: as named
    ("torch", "auto", True, True, same(("torch", "bfloat16"))),
])
def test_a_service_plans_onnx_runtime_under_auto(runtime, dtype, bf16, four_bit, expected):
    assert plan(runtime, dtype, bf16, four_bit, serving=True) == expected


WRITES_INT8_GEMM = Plan(("onnx", "int8"), ("onnx", "float32"), ("onnx", "int8-gemm"))


@pytest.mark.parametrize("runtime, dtype, bf16, four_bit, serving, expected", [
    # a service's writes on a CPU with VNNI: int8 GEMM, with bfloat16 or without
    ("auto", "auto", True, True, True, WRITES_INT8_GEMM),
    ("onnx", "auto", False, True, True, WRITES_INT8_GEMM),
    # a build is as without VNNI; so is another model under auto (torch) and a number type named
    ("auto", "auto", True, True, False, BF16_AUTO),
    ("auto", "auto", False, True, False, ONNX_AUTO),
    ("auto", "auto", False, False, True, same(("torch", "float32"))),
    ("onnx", "auto", False, False, True, same(("onnx", "float32"))),  # another model's writes: no int8 form
    ("auto", "float32", False, True, True, same(("onnx", "float32"))),
    # int8 GEMM named: every side, on ONNX Runtime, any model (it needs no 4-bit weights)
    ("auto", "int8-gemm", True, True, False, same(("onnx", "int8-gemm"))),
    ("onnx", "int8-gemm", False, False, True, same(("onnx", "int8-gemm"))),
])
def test_where_the_cpu_has_vnni(runtime, dtype, bf16, four_bit, serving, expected):
    assert plan(runtime, dtype, bf16, four_bit, serving=serving, int8_dot=True) == expected


def test_int8_gemm_is_refused_without_vnni_and_on_torch():
    with pytest.raises(ModelLoadError, match="VNNI.*int8-gemm-7"):
        plan("auto", "int8-gemm", True, True)
    with pytest.raises(ModelLoadError, match="ZHSEARCH_MODEL_RUNTIME=onnx"):
        plan("torch", "int8-gemm", True, True, int8_dot=True)
    with pytest.raises(ModelLoadError, match="ZHSEARCH_MODEL_RUNTIME=onnx"):
        plan("torch", "int8-gemm-7", False, True)


@pytest.mark.parametrize("int8_dot", [False, True])
def test_7_bit_int8_gemm_runs_with_vnni_or_without_on_any_model(int8_dot):
    for four_bit in (True, False):
        assert plan("auto", "int8-gemm-7", False, four_bit, int8_dot=int8_dot) == same(("onnx", "int8-gemm-7"))
    # under auto only the default (4-bit) model's service writes in int8 GEMM; another model's writes are float32
    assert plan("onnx", "auto", False, False, serving=True, int8_dot=int8_dot) == same(("onnx", "float32"))


@pytest.mark.parametrize("runtime, dtype, four_bit, fix", [
    ("torch", "int8", True, "ZHSEARCH_MODEL_RUNTIME=onnx"),
    ("onnx", "bfloat16", True, "ZHSEARCH_MODEL_RUNTIME=torch"),
    ("onnx", "int8", False, "ZHSEARCH_MODEL_DTYPE=float32"),
    ("auto", "int8", False, "4-bit weights"),
])
def test_combinations_no_runtime_computes_name_the_fix(runtime, dtype, four_bit, fix):
    with pytest.raises(ModelLoadError, match=fix):
        plan(runtime, dtype, False, four_bit)


@pytest.mark.parametrize("features, serving, passages", [
    (frozenset({"avx2"}), True, ("onnx", "int8-gemm-7")),  # a service's writes without VNNI: 7-bit weights
    (frozenset({"avx2"}), False, ("onnx", "float32")),  # a build: float32, whatever the CPU
    (frozenset({"avx2", "avx512f", "avx512vnni"}), True, ("onnx", "int8-gemm")),
    (frozenset({"avx2", "avx512f", "avx512vnni"}), False, ("onnx", "float32")),
])
def test_chosen_plan_reads_this_cpu(monkeypatch, features, serving, passages):
    from index.model import runtime
    from index.settings import Settings

    monkeypatch.setattr(runtime, "cpu_features", lambda: features)
    monkeypatch.setattr(runtime, "_is_default", lambda settings: True)
    chosen = runtime.chosen_plan(Settings(model_runtime="auto", model_dtype="auto"), serving=serving)
    assert chosen == Plan(("onnx", "int8"), ("onnx", "float32"), passages)
