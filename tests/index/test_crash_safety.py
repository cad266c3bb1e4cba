"""SIGKILL at every stage of builds, writes, refreshes and merges (with writes landing mid-merge): the index
stays whole, keeps what it acknowledged, never brings a deleted article back, and a restart leaves nothing stray."""

import select
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from index.builder import build_index
from index.check import check_index, removable
from index.commits import remove_unreferenced, write_lock
from index.models import Article
from index.snapshot import open_snapshot
from index.tokenize import tokenizer_from
from index.writer import apply_update

WORKER = Path(__file__).with_name("crash_worker.py")
RUN_TIMEOUT_S = 120  # one run of the worker, on a loaded 2-core machine
WRITE_STAGES = ["docs", "whoosh", "faiss", "publish", "tombstones", "switch"]
BUILD_STAGES = ["docs", "whoosh", "faiss", "publish", "switch"]
MERGE_STAGES = ["merge-docs", "merge-whoosh", "merge-faiss", "merge-written", "merge-publish", "merge-switch"]
KILLS = ([("update", stage, nth) for stage in WRITE_STAGES for nth in (1, 3, 5)]
         + [("build", stage, 1) for stage in BUILD_STAGES]
         + [("refresh", "refresh", nth) for nth in (1, 4)]
         + [("merge", stage, 1) for stage in MERGE_STAGES]
         + [("merge-writes", stage, 1) for stage in ("switch", "merge-publish", "merge-switch")]
         + [("merge-writes", "tombstones", 2)])


@pytest.fixture(scope="module")
def base_index(tmp_path_factory):
    from conftest import CACHE_DIR, TINY
    from fakes import FakeEncoder
    from index.settings import Settings

    settings = Settings(index_dir=tmp_path_factory.mktemp("base") / "index", cache_dir=CACHE_DIR)
    build_index(settings.index_dir, list(TINY), tokenizer_from(settings), FakeEncoder(), ["tiny"], quiet=True)
    return settings


@pytest.fixture(scope="module")
def worker(base_index):
    """Runs crash_worker.py's argument lists, each in a child forked from one warm process; its exit code."""
    server = subprocess.Popen([sys.executable, str(WORKER), "--serve", str(base_index.cache_dir)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(args: list[str], stderr: Path) -> int:
        server.stdin.write("\t".join([*args, str(stderr)]) + "\n")
        server.stdin.flush()
        # one answer line a request, so the pipe's buffer is empty while a run lasts: select sees the next one
        if not select.select([server.stdout], [], [], RUN_TIMEOUT_S)[0]:
            server.kill()
            pytest.fail(f"a crash worker's run did not end in {RUN_TIMEOUT_S} s: "
                        f"{stderr.read_text() if stderr.exists() else 'nothing written'}")
        answer = server.stdout.readline()
        assert answer, f"the crash worker's server ended ({server.poll()})"
        return int(answer)

    yield run
    server.stdin.close()
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def segmented_index(base_index, tmp_path_factory):
    """The base index after five writes: k3 and k4 live, each in a segment of its own; k0-k2 deleted."""
    from fakes import FakeEncoder

    index_dir = tmp_path_factory.mktemp("segmented") / "index"
    shutil.copytree(base_index.index_dir, index_dir)
    tokenizer = tokenizer_from(base_index)
    for i in range(5):
        article = Article(f"k{i}", f"更新{i}", (f"第{i}次更新的第一段。", f"第{i}次更新的第二段。"), source="crash")
        apply_update(index_dir, [article], [f"k{i - 2}"] if i >= 2 else [], tokenizer, FakeEncoder())
    return index_dir


def replay(updates, state):
    for added, *deleted in updates:
        state = (state - set(deleted)) | {added}
    return state


@pytest.mark.parametrize("action,stage,nth", KILLS, ids=[f"{a}-{s}-{n}" for a, s, n in KILLS])
def test_kill_leaves_a_whole_index(base_index, segmented_index, worker, tmp_path, action, stage, nth):
    from fakes import FakeEncoder

    index_dir = tmp_path / "index"
    merging = action.startswith("merge")
    shutil.copytree(segmented_index if merging else base_index.index_dir, index_dir)
    ack = tmp_path / "ack.txt"
    ack.touch()
    stderr = tmp_path / "stderr.txt"
    code = worker([str(index_dir), str(base_index.cache_dir), action, stage, str(nth), str(ack)], stderr)
    assert code == -signal.SIGKILL, stderr.read_text()
    commit, problems = check_index(index_dir)
    assert problems == [], problems
    snapshot = open_snapshot(index_dir, FakeEncoder().config(), tokenizer_from(base_index).config())
    articles = {a for a in ("a1", "a2", "a3", *(f"k{i}" for i in range(12))) if snapshot.article(a) is not None}
    lines = [line.split()[1:] for line in ack.read_text().splitlines()]
    begun = [words for words in lines if words and words[0] != "build" and words[0] != "merge"][0::2]
    acked = [words for words in lines if words and words[0] != "build" and words[0] != "merge"][1::2]
    start = {"a1", "a2", "a3"} | ({"k3", "k4"} if merging else set())
    # Every acknowledged write is there; the one in flight, if any, landed whole or not at all.
    allowed = [replay(acked, start), replay(begun, start)]
    assert articles in allowed, f"index holds {sorted(articles)}, expected one of {[sorted(x) for x in allowed]}"
    # A restart (the service's or the next writer's clean-up) leaves nothing that no commit point lists.
    with write_lock(index_dir):
        remove_unreferenced(index_dir)
    assert removable(index_dir) == []
    assert check_index(index_dir)[1] == []
