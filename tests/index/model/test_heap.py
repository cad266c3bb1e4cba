"""The C heap's settings: a service's limit on glibc's heaps, and the user's MALLOC_ARENA_MAX first."""

import os
import platform
import subprocess
import sys

import pytest

SET = "from index.model.heap import limit_heaps; print(limit_heaps(2))"


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_a_service_limits_glibcs_heaps_unless_the_user_named_a_number():
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    ran = subprocess.run([sys.executable, "-c", SET], env=env, capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "True"
    ran = subprocess.run([sys.executable, "-c", SET], env={**env, "MALLOC_ARENA_MAX": "4"}, capture_output=True,
                         text=True, check=True)
    assert ran.stdout.strip() == "False"
