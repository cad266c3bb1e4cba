"""Shared fixtures: settings in a temporary folder, a tiny corpus, the fake encoder."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fakes import FakeEncoder  # noqa: E402
from index.models import Article  # noqa: E402
from index.settings import Settings  # noqa: E402

# No per-example time limit: these machines are shared, and a slow example is not a failure.
hypothesis_settings.register_profile("zhsearch", deadline=None)
hypothesis_settings.load_profile("zhsearch")

CACHE_DIR = Path(os.environ.get("ZHSEARCH_CACHE_DIR", Path.home() / ".cache" / "zhsearch"))

TINY = [
    Article("a1", "工匠学院直通车开到生产一线", (
        "一辆中巴车驶入天津市静海区独流镇，讲师团走进生产一线，为职工充电赋能。",
        "青年职工高阳说，培训特别解渴，工作起来更得心应手了。",
    ), source="tiny.txt"),
    Article("a2", "外卖配送员的暖心驿站", (
        "工会为外卖配送员和快递员建起暖心驿站，提供热水、充电和休息的地方。",
    ), source="tiny.txt"),
    Article("a3", "臺灣的開發與發行", ("遊戲由韓國公司開發與發行，臺灣由遊戲橘子運營。",), source="trad.txt"),
]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose index lives in a temporary folder; the shared cache keeps jieba's dictionary."""
    return Settings(index_dir=tmp_path / "index", cache_dir=CACHE_DIR)


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def tiny_articles() -> list[Article]:
    return list(TINY)


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
