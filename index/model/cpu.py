"""What this process's CPU computes natively, read through cpuid as NumPy's dispatcher sees it.

Not /proc/cpuinfo: that lists the host's features even where this process cannot use them (a VM
that hides them, or bench/cpu/avx2_only.so masking them), while every kernel library here
(oneDNN, MKL, ONNX Runtime's MLAS, FAISS's loader) chooses its code by cpuid, as NumPy does.
"""

from __future__ import annotations

import functools

BF16_FEATURES = frozenset({"avx512bf16"})  # computes bfloat16 natively (Intel since Cooper Lake, AMD Zen 4)
# int8 products summed in one instruction: AVX-512 VNNI (Intel since Cascade Lake, AMD Zen 4). NumPy does not report
# AVX-VNNI (Alder Lake's), so a CPU with only that is treated as without: its writes take the 7-bit int8
# GEMM, exact without VNNI (slower than 8-bit there, never wrong).
INT8_DOT_FEATURES = frozenset({"avx512vnni"})


@functools.cache
def cpu_features() -> frozenset[str]:
    """NumPy's names of the features this process may use, lower case (e.g. "avx2", "avx512f", "avx512bf16")."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_features__
    return frozenset(name.lower() for name, present in __cpu_features__.items() if present)


def native_bfloat16(features: frozenset[str] | set[str]) -> bool:
    """True where bfloat16 arithmetic runs in hardware (elsewhere torch emulates it, slower than float32)."""
    return bool(set(features) & BF16_FEATURES)


def native_int8_dot(features: frozenset[str] | set[str]) -> bool:
    """True where int8 products are summed in one instruction (VNNI): there uint8 x int8 GEMMs are exact and fast
    (index/model/onnx/int8_gemm.py); elsewhere ONNX Runtime sums pairs of them in int16, which saturates."""
    return bool(set(features) & INT8_DOT_FEATURES)


def describe_cpu(features: frozenset[str] | set[str]) -> str:
    """The widest vector instruction set, for reports: 'AVX-512 + bf16', 'AVX-512', 'AVX2' or 'baseline'."""
    if native_bfloat16(features):
        return "AVX-512 + bf16"
    if "avx512f" in features:
        return "AVX-512"
    return "AVX2" if "avx2" in features else "baseline"
