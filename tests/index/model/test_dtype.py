"""The model's number type: bfloat16 only where the CPU computes it natively, or where asked."""

from pathlib import Path

import pytest

from index.model.embed import cpu_flags, pick_dtype


@pytest.mark.parametrize("setting, flags, expected", [
    ("auto", {"avx2", "avx512f", "avx512_bf16"}, "bfloat16"),
    ("auto", {"avx2", "amx_bf16"}, "bfloat16"),
    ("auto", {"avx2", "avx512f"}, "float32"),
    ("auto", set(), "float32"),
    ("float32", {"avx512_bf16"}, "float32"),
    ("bfloat16", set(), "bfloat16"),
])
def test_pick_dtype(setting, flags, expected):
    assert pick_dtype(setting, flags) == expected


def test_cpu_flags_reads_the_flags_line(tmp_path: Path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512_bf16\nbugs\t\t: spectre\n", encoding="utf-8")
    assert cpu_flags(info) == {"fpu", "sse2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "absent") == set()
