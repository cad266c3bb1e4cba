"""Shared fixtures: settings in a temporary folder, a tiny corpus, the fake encoder."""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

ROOT = Path(__file__).resolve().parents[1]
# tests/ for `fakes` and `conftest`; the checkout before it, so that `index` is the project's package and
# not tests/index/ (pytest puts tests/ first, and a folder without __init__.py there would otherwise
# shadow it as a namespace package: index.model would be tests/index/model).
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fakes import FakeEncoder  # noqa: E402
from index.models import Article  # noqa: E402
from index.settings import Settings  # noqa: E402

# Property tests. Both profiles: no per-example time limit and no "too slow" health check (these
# machines are shared: a slow example is not a failure), and a failure prints the blob that replays
# it (`@reproduce_failure(...)`). "ci" (chosen when CI is set, as .ci/run does) is the same run every
# time: examples derived from each test's own code (derandomize), no example database carried between
# runs, a bounded number of examples. "dev" (local runs) explores new random examples each run and
# keeps the failing ones in .hypothesis/ to try first next time.
_QUIET_MACHINES = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "print_blob": True}
hypothesis_settings.register_profile("ci", derandomize=True, database=None, max_examples=100, **_QUIET_MACHINES)
hypothesis_settings.register_profile("dev", **_QUIET_MACHINES)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")

# The seed index and its server, one each for the session (tests/e2e/seeds.py); the search page's tiny index, its
# server and a browser, one each per test module that asks (tests/e2e/search_page.py).
pytest_plugins = ["e2e.seeds", "e2e.search_page"]

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


@contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses connections while the block runs: bound here and never listened on, so no
    other process can take it (a port merely found free could be)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A tiny BEIR dataset: three documents, four queries (one unjudged)."""
    folder = tmp_path / "tiny-beir"
    (folder / "qrels").mkdir(parents=True)
    docs = [
        {"_id": "d1", "title": "工匠学院", "text": "工匠学院直通车开到生产一线。\n讲师团为职工充电赋能。"},
        {"_id": "d2", "title": "驿站", "text": "工会为外卖配送员建起暖心驿站。"},
        {"_id": "d3", "title": "游戏", "text": "遊戲由韓國公司開發與發行。"},
    ]
    queries = [{"_id": "q1", "text": "讲师团为谁充电"}, {"_id": "q2", "text": "外卖配送员驿站"},
               {"_id": "q3", "text": "游戏由谁开发"}, {"_id": "q4", "text": "没有判断的问题"}]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td3\t1\n")
    return folder
