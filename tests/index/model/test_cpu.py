"""CPU features as this process sees them, and bench/cpu/avx2_only.c, which hides AVX-512 from a process."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index.model.cpu import cpu_features, describe_cpu, native_bfloat16, native_int8_dot

ROOT = Path(__file__).resolve().parents[3]


def test_features_are_numpys_names_in_lower_case():
    features = cpu_features()
    assert features and all(name == name.lower() for name in features)
    assert native_bfloat16({"avx2", "avx512bf16"}) and not native_bfloat16({"avx2", "avx512f"})
    assert native_int8_dot({"avx512f", "avx512vnni"}) and not native_int8_dot({"avx2", "avx512f", "avx512bf16"})
    assert [describe_cpu(f) for f in ({"avx512bf16"}, {"avx512f"}, {"avx2"}, set())] == \
        ["AVX-512 + bf16", "AVX-512", "AVX2", "baseline"]


@pytest.mark.skipif(sys.platform != "linux" or shutil.which("gcc") is None, reason="needs Linux and gcc")
def test_the_avx2_only_shim_hides_avx512_from_numpy_and_the_model_runtimes(tmp_path):
    if "avx512f" not in cpu_features():
        pytest.skip("this CPU has no AVX-512 to hide")
    shim = tmp_path / "avx2_only.so"
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", str(shim), str(ROOT / "bench" / "cpu" / "avx2_only.c")],
                   check=True)
    code = ("from index.model.cpu import cpu_features, describe_cpu; import torch; "
            "print(describe_cpu(cpu_features()), torch.backends.cpu.get_cpu_capability())")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"LD_PRELOAD": str(shim), "PATH": "/usr/bin:/bin"})
    if "no CPUID faulting" in run.stderr:
        pytest.skip("this kernel or CPU cannot fault cpuid")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["AVX2", "AVX2"]
