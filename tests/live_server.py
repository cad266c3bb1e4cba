"""A real uvicorn server in a thread, on a free loopback port: the search service over an index (the tests'
fake encoder by default), or any app."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import httpx
import pytest
import uvicorn

from api.app import create_app
from fakes import FakeEncoder
from index.settings import Settings


def serving(settings: Settings, encoder=None, name: str = "test-server"):
    """The base URL of a healthy search service over `settings.index_dir`; stopped on exit."""
    return serving_app(create_app(settings, encoder=encoder or FakeEncoder()), name)


@contextmanager
def serving_app(app, name: str = "test-server", health: str = "/health") -> Iterator[str]:
    """The base URL of `app` served on loopback once `health` answers 200; stopped on exit.

    The server listens on a socket bound here (port 0: the kernel's choice), not on a port found free and bound
    later, which another process (another suite's server) could take in between."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                if httpx.get(f"{base}{health}", timeout=2).status_code == 200:
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
        sock.close()
