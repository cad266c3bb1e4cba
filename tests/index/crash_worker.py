"""Run by test_crash_safety in a subprocess: build or update an index, SIGKILL itself at a chosen stage.

Usage: crash_worker.py INDEX_DIR CACHE_DIR (build|update) STAGE NTH ACK_FILE
Before each update a line "begin ADDED [DELETED]" and after it returns "ack ADDED [DELETED]" go to
ACK_FILE (fsynced): an acknowledged update must survive; the one in flight may land whole or not at all.
"""

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from conftest import TINY  # noqa: E402
from fakes import FakeEncoder  # noqa: E402
from index.builder import build_index  # noqa: E402
from index.models import Article  # noqa: E402
from index.settings import Settings  # noqa: E402
from index.tokenize import tokenizer_from  # noqa: E402
from index.writer import apply_update  # noqa: E402

UPDATES = 5


def killer(stage: str, nth: int):
    seen = {"count": 0}

    def checkpoint(reached: str) -> None:
        if reached == stage:
            seen["count"] += 1
            if seen["count"] == nth:
                os.kill(os.getpid(), signal.SIGKILL)
    return checkpoint


def acknowledge(path: Path, article_id: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(article_id + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def main() -> None:
    index_dir, cache_dir, action, stage, nth, ack = sys.argv[1:7]
    settings = Settings(index_dir=Path(index_dir), cache_dir=Path(cache_dir))
    tokenizer, encoder, checkpoint = tokenizer_from(settings), FakeEncoder(), killer(stage, int(nth))
    if action == "build":
        build_index(settings.index_dir, list(TINY), tokenizer, encoder, ["tiny"], quiet=True, checkpoint=checkpoint)
        acknowledge(Path(ack), "ack build")
        return
    for i in range(UPDATES):
        article = Article(f"k{i}", f"更新{i}", (f"第{i}次更新的第一段。", f"第{i}次更新的第二段。"), source="crash")
        deletes = [f"k{i - 2}"] if i >= 2 else []  # deletes too, so kills land inside deletions
        acknowledge(Path(ack), " ".join(["begin", article.id, *deletes]))
        apply_update(settings.index_dir, [article], deletes, tokenizer, encoder, checkpoint)
        acknowledge(Path(ack), " ".join(["ack", article.id, *deletes]))


if __name__ == "__main__":
    main()
