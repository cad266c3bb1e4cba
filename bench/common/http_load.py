"""The real server on loopback, and client loops against it: sequential and N concurrent clients.

Every loop is bounded by its number of queries and by `limit_s` seconds, and only ever talks
to 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import httpx

from bench.common.latency import Timings
from bench.common.paths import BENCH, ROOT

HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A started server process and where it answers."""

    process: subprocess.Popen
    url: str
    ready_seconds: float


def server_command(index_dir: Path, port: int, fake: bool) -> list[str]:
    """`python -m api.cli serve` (the real model); with `fake`, the same app with the tests' fake encoder (this
    checkout's serve_fake.py, run by its path: a server of another revision's code runs it too)."""
    if fake:
        script = BENCH / "common" / "serve_fake.py"
        return [sys.executable, str(script), "--index-dir", str(index_dir), "--port", str(port)]
    return [sys.executable, "-m", "api.cli", "serve", "--index-dir", str(index_dir), "--host", HOST, "--port", str(port)]


@contextmanager
def running_server(index_dir: Path, fake: bool, log_path: Path, ready_timeout: float = 300.0,
                   cwd: Path = ROOT, extra_env: dict[str, str] | None = None,
                   port: int | None = None) -> Iterator[Server]:
    """Start the server (the code in `cwd`: this checkout unless another is named; on `port`, or a free one),
    wait for `/health` to answer 200, yield it, and stop it whatever happens."""
    port = port or free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(cwd), **(extra_env or {})}  # the code in `cwd`
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(server_command(index_dir, port, fake), cwd=cwd, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://{HOST}:{port}"
            wait_healthy(process, url, ready_timeout, log_path)
            yield Server(process, url, time.perf_counter() - started)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_healthy(process: subprocess.Popen, url: str, timeout: float, log_path: Path) -> None:
    """Poll `/health` until it answers 200; raise with the log's tail if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=5.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
                raise RuntimeError(f"server exited with {process.returncode} before it was healthy:\n{tail}")
            try:
                # healthy, and BM25's precomputed scores read: what a long-running service serves with
                if client.get("/health").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
    raise RuntimeError(f"server not healthy after {timeout:.0f} s; see {log_path}")


def _one(client: httpx.Client, query: str, mode: str, k: int, timings: Timings, lock: threading.Lock) -> None:
    before = time.perf_counter()
    try:
        response = client.get("/search", params={"q": query, "mode": mode, "k": k})
        ok = response.status_code == 200 and "hits" in response.json()
        what = f"HTTP {response.status_code}: {response.text[:200]}"
    except (httpx.HTTPError, ValueError) as err:
        ok, what = False, f"{type(err).__name__}: {err}"
    elapsed = (time.perf_counter() - before) * 1000
    with lock:
        if ok:
            timings.ms.append(elapsed)
        else:
            timings.add_error(what)


def run_clients(url: str, mode: str, queries: Sequence[str], clients: int, limit_s: float,
                k: int = 10, warmup: int = 5) -> Timings:
    """`clients` threads, each with its own connection, take the queries after the first `warmup` (sent untimed) in
    turn until none or time is left. A service keeps the vectors of recent query texts
    (search/serving/recent_vectors.py): a text timed once more than it was sent skips the model."""
    with httpx.Client(base_url=url, timeout=60.0) as client:
        for query in queries[:warmup]:
            client.get("/search", params={"q": query, "mode": mode, "k": k})
    timings = Timings()
    lock = threading.Lock()
    pending = iter(queries[warmup:])
    started = time.perf_counter()

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=60.0) as client:
            while time.perf_counter() - started < limit_s:
                with lock:
                    query = next(pending, None)
                if query is None:
                    return
                _one(client, query, mode, k, timings, lock)

    threads = [threading.Thread(target=worker, name=f"client-{n}") for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    timings.wall = time.perf_counter() - started
    return timings
