"""The seed index the real CLI builds with the real model, and a real server over it: one of each for the whole
session, whichever e2e module asks first (loaded as a plugin by tests/conftest.py: a fixture imported into two
test modules would be two fixtures, and the seed index built twice)."""

import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest


ROOT = Path(__file__).resolve().parents[2]
ZHSEARCH = [sys.executable, "-m", "api.cli"]


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("seeds") / "index"
    done = subprocess.run([*ZHSEARCH, "index", "seeds", "--index-dir", str(folder), "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert "indexed 39 articles" in done.stdout
    return folder


@contextmanager
def served(args: list[str], log_path: Path, env: dict[str, str] | None = None, ping_timeout: float = 2.0):
    """`zhsearch serve ARGS` on a free loopback port; its base URL once /health answers 200 (180 s at most).

    The server takes port 0 (the kernel's choice, named on its start-up line): a port found free here could be
    taken by another process (another suite's server) before the server bound it."""
    log = open(log_path, "w")
    proc = subprocess.Popen([*ZHSEARCH, "serve", *args, "--host", "127.0.0.1", "--port", "0"], cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    base = None
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        started = log_path.read_text(errors="replace")  # the line whole, not cut off mid-write
        listening = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+) \(Press", started)
        base = listening.group(1) if listening else None
        try:
            if base and httpx.get(f"{base}/health", timeout=ping_timeout).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            pytest.fail(log_path.read_text())
        time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("server did not become healthy in 180 s")
    yield base
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


@pytest.fixture(scope="session")
def server(seeds_index):
    with served(["--index-dir", str(seeds_index)], seeds_index.parent / "server.log") as base:
        yield base
