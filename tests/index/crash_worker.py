"""Run by test_crash_safety in a subprocess: write to an index, SIGKILL itself at a chosen stage.

Usage: crash_worker.py INDEX_DIR CACHE_DIR ACTION STAGE NTH ACK_FILE   (one run)
       crash_worker.py --serve CACHE_DIR   (a run per line on stdin, each forked from this process)

Served, the imports and jieba's dictionary (~1.6 s of each fresh process) are loaded once, and each line
(the six arguments and a file for the run's stderr, tab-separated) is run in a child forked from this
process, which runs nothing else (its one other thread, OpenBLAS's idle pool, is fork-safe); the
child's exit code (-9 once it has killed itself) is written back as a line.

Actions: build (a full build); update (5 writes, each adding k<i> and deleting k<i-2>); refresh (the
same writes, each followed by the service's reopening of the index); merge (merge the index, which
the test gave several segments, to one); merge-writes (the same merge with 2 writes landing while it
runs, after it has written its segment and before it commits).

Before each write a line "begin ADDED [DELETED]" and after it returns "ack ADDED [DELETED]" go to
ACK_FILE (fsynced): an acknowledged write must survive; the one in flight may land whole or not at all.
"""

import os
import signal
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conftest import TINY  # noqa: E402
from fakes import FakeEncoder  # noqa: E402
from index.builder import build_index  # noqa: E402
from index.merge import run_merges  # noqa: E402
from index.models import Article  # noqa: E402
from index.settings import Settings  # noqa: E402
from index.snapshot import open_snapshot  # noqa: E402
from index.tokenize import tokenizer_from  # noqa: E402
from index.writer import apply_update  # noqa: E402

UPDATES = 5


def killer(stage: str, nth: int, also=None):
    seen = {"count": 0}

    def checkpoint(reached: str) -> None:
        if also is not None:
            also(reached)
        if reached == stage:
            seen["count"] += 1
            if seen["count"] == nth:
                os.kill(os.getpid(), signal.SIGKILL)
    return checkpoint


def acknowledge(path: Path, line: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def write(settings, tokenizer, encoder, ack: Path, i: int, checkpoint, deletes: list[str] | None = None) -> None:
    article = Article(f"k{i}", f"更新{i}", (f"第{i}次更新的第一段。", f"第{i}次更新的第二段。"), source="crash")
    if deletes is None:
        deletes = [f"k{i - 2}"] if i >= 2 else []  # deletes too, so kills land inside deletions
    acknowledge(ack, " ".join(["begin", article.id, *deletes]))
    apply_update(settings.index_dir, [article], deletes, tokenizer, encoder, checkpoint)
    acknowledge(ack, " ".join(["ack", article.id, *deletes]))


def main(argv: list[str]) -> None:
    index_dir, cache_dir, action, stage, nth, ack = argv
    settings = Settings(index_dir=Path(index_dir), cache_dir=Path(cache_dir))
    tokenizer, encoder, ack = tokenizer_from(settings), FakeEncoder(), Path(ack)
    checkpoint = killer(stage, int(nth))
    if action == "build":
        build_index(settings.index_dir, list(TINY), tokenizer, encoder, ["tiny"], quiet=True, checkpoint=checkpoint)
        acknowledge(ack, "ack build")
    elif action in ("update", "refresh"):
        snapshot = None
        for i in range(UPDATES):
            write(settings, tokenizer, encoder, ack, i, checkpoint)
            if action == "refresh":  # what the service does after each commit: open it, reusing segments
                snapshot = open_snapshot(settings.index_dir, encoder.config(), tokenizer.config(), snapshot)
                checkpoint("refresh")
    elif action in ("merge", "merge-writes"):
        written = {"done": False}

        def writes_meanwhile(reached: str) -> None:
            if action == "merge-writes" and reached == "merge-written" and not written["done"]:
                written["done"] = True
                # They commit while the merge waits to, deleting from the segments it merges: it must carry
                # those deletes over. (The test's base index holds k3 and k4, each in a segment of its own.)
                for i, gone in ((10, "k3"), (11, "a1")):
                    write(settings, tokenizer, encoder, ack, i, checkpoint, [gone])
        checkpoint = killer(stage, int(nth), writes_meanwhile)
        run_merges(settings.index_dir, everything=True, checkpoint=checkpoint)
        acknowledge(ack, "ack merge")


def serve(cache_dir: str) -> None:
    """Run each request line of stdin in a forked child; write its exit code to stdout."""
    tokenizer_from(Settings(cache_dir=Path(cache_dir)))  # jieba's dictionary, loaded before any fork
    for line in sys.stdin:
        *argv, stderr = line.rstrip("\n").split("\t")
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                with open(stderr, "w") as errors:  # the child's stdout too: the server's is the answers'
                    os.dup2(errors.fileno(), 1)
                    os.dup2(errors.fileno(), 2)  # sys.stderr writes to fd 2: the traceback lands in the file
                main(argv)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)  # no atexit handlers nor buffers of the server's run twice
        print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)


if __name__ == "__main__":
    serve(sys.argv[2]) if sys.argv[1] == "--serve" else main(sys.argv[1:7])
