"""Which runtime and arithmetic encode queries and passages (index/model/runtime.py's plan)."""

import pytest

from index.model.embed import ModelLoadError
from index.model.runtime import Plan, plan

ONNX_AUTO = Plan(("onnx", "int8"), ("onnx", "float32"))


@pytest.mark.parametrize("runtime, dtype, bf16, four_bit, bulk, expected", [
    # auto on the default (4-bit) model: ONNX Runtime, int8 queries, float32 passages ...
    ("auto", "auto", False, True, False, ONNX_AUTO),
    ("auto", "auto", False, True, True, ONNX_AUTO),
    ("auto", "auto", True, True, False, ONNX_AUTO),
    # ... except a bulk build where bfloat16 is native: torch's bfloat16 passages
    ("auto", "auto", True, True, True, Plan(("onnx", "int8"), ("torch", "bfloat16"))),
    # a number type named: the runtime that computes it, both sides
    ("auto", "float32", True, True, True, Plan(("onnx", "float32"), ("onnx", "float32"))),
    ("auto", "int8", False, True, True, Plan(("onnx", "int8"), ("onnx", "int8"))),
    ("auto", "bfloat16", False, True, False, Plan(("torch", "bfloat16"), ("torch", "bfloat16"))),
    # another model: torch under auto
    ("auto", "auto", True, False, True, Plan(("torch", "bfloat16"), ("torch", "bfloat16"))),
    ("auto", "auto", False, False, False, Plan(("torch", "float32"), ("torch", "float32"))),
    # runtimes named
    ("torch", "auto", False, True, False, Plan(("torch", "float32"), ("torch", "float32"))),
    ("torch", "auto", True, True, False, Plan(("torch", "bfloat16"), ("torch", "bfloat16"))),
    ("onnx", "auto", True, True, True, ONNX_AUTO),
    ("onnx", "auto", False, False, False, Plan(("onnx", "float32"), ("onnx", "float32"))),
    ("onnx", "float32", False, True, False, Plan(("onnx", "float32"), ("onnx", "float32"))),
])
def test_plan(runtime, dtype, bf16, four_bit, bulk, expected):
    assert plan(runtime, dtype, bf16, four_bit, bulk) == expected


@pytest.mark.parametrize("runtime, dtype, four_bit, fix", [
    ("torch", "int8", True, "ZHSEARCH_MODEL_RUNTIME=onnx"),
    ("onnx", "bfloat16", True, "ZHSEARCH_MODEL_RUNTIME=torch"),
    ("onnx", "int8", False, "ZHSEARCH_MODEL_DTYPE=float32"),
    ("auto", "int8", False, "4-bit weights"),
])
def test_combinations_no_runtime_computes_name_the_fix(runtime, dtype, four_bit, fix):
    with pytest.raises(ModelLoadError, match=fix):
        plan(runtime, dtype, False, four_bit, False)
