"""Which runtime and arithmetic encode a lone query, a batch of queries and passages (runtime.plan)."""

import pytest

from index.model.embed import ModelLoadError
from index.model.runtime import Plan, plan

ONNX_AUTO = Plan(("onnx", "int8"), ("onnx", "float32"), ("onnx", "float32"))
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
    ("auto", "auto", True, True, ONNX_AUTO),  # a service: ONNX Runtime even where torch computes bfloat16
    ("auto", "auto", False, True, ONNX_AUTO),
    ("auto", "auto", True, False, same(("torch", "bfloat16"))),  # another model: torch, as ever
    ("auto", "bfloat16", True, True, same(("torch", "bfloat16"))),  # named: as named
    ("torch", "auto", True, True, same(("torch", "bfloat16"))),
])
def test_a_service_plans_onnx_runtime_under_auto(runtime, dtype, bf16, four_bit, expected):
    assert plan(runtime, dtype, bf16, four_bit, serving=True) == expected


@pytest.mark.parametrize("runtime, dtype, four_bit, fix", [
    ("torch", "int8", True, "ZHSEARCH_MODEL_RUNTIME=onnx"),
    ("onnx", "bfloat16", True, "ZHSEARCH_MODEL_RUNTIME=torch"),
    ("onnx", "int8", False, "ZHSEARCH_MODEL_DTYPE=float32"),
    ("auto", "int8", False, "4-bit weights"),
])
def test_combinations_no_runtime_computes_name_the_fix(runtime, dtype, four_bit, fix):
    with pytest.raises(ModelLoadError, match=fix):
        plan(runtime, dtype, False, four_bit)
