"""A real uvicorn server in a thread, on a free loopback port, over an index (tests' fake encoder by default)."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator

import httpx
import pytest
import uvicorn

from api.app import create_app
from conftest import free_port
from fakes import FakeEncoder
from index.settings import Settings


@contextmanager
def serving(settings: Settings, encoder=None, name: str = "test-server") -> Iterator[str]:
    """The base URL of a healthy server over `settings.index_dir`; stopped on exit."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, encoder=encoder or FakeEncoder()), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("the test server did not become healthy in 30 s")
            time.sleep(0.1)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
