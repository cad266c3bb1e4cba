"""The torch runtime's number type: bfloat16 only where the CPU computes it natively, or where asked."""

import pytest

from index.model.embed import ModelLoadError, pick_dtype


@pytest.mark.parametrize("setting, features, expected", [
    ("auto", {"avx2", "avx512f", "avx512bf16"}, "bfloat16"),
    ("auto", {"avx2", "avx512f"}, "float32"),
    ("auto", set(), "float32"),
    ("float32", {"avx512bf16"}, "float32"),
    ("bfloat16", set(), "bfloat16"),
])
def test_pick_dtype(setting, features, expected):
    assert pick_dtype(setting, features) == expected


def test_torch_has_no_int8():
    with pytest.raises(ModelLoadError, match="ZHSEARCH_MODEL_RUNTIME=onnx"):
        pick_dtype("int8", set())
