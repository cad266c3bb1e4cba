"""Debian's headless Chromium through its own chromedriver, for the page tests; nothing is downloaded.

A test module calls `require_browser()` at import: without chromium, chromium-driver and selenium
its tests skip (`make browser` installs them).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
         "--lang=zh-CN"]
SHOTS = Path(__file__).resolve().parent / "screenshots"
WAIT_S = 15


def require_browser() -> None:
    """Skip the calling module unless the browser and selenium are installed."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip(f"needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}): `make browser`",
                    allow_module_level=True)
    pytest.importorskip("selenium.webdriver", reason="needs selenium: pip install -e '.[test]'")


def instrument_env() -> dict[str, str]:
    """This environment without bench/cpu/avx2_only.py's shim: the browser is an instrument, not the
    subject, and keeps the real CPU (its crash handlers take SIGSEGV, its sandbox forbids arch_prctl)."""
    preload = [p for p in os.environ.get("LD_PRELOAD", "").split() if "avx2_only" not in p]
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    return {**env, "LD_PRELOAD": " ".join(preload)} if preload else env


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium driver with its own throw-away profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="zhsearch-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SE_OFFLINE", "true")
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER, env=instrument_env()), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
