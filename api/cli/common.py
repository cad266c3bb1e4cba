"""What every zhsearch command shares: the errors it reports in one line, its options, its settings."""

from __future__ import annotations

import os
import socket
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional, get_args

import typer
from rich.console import Console

from index.builder import EmptyCorpusError
from index.commits import IndexNotFoundError, UnreadableCommitError, WriterBusyError
from index.ingest.sources import IngestError
from index.manifest import IndexMismatchError
from index.milvus.connection import MilvusConfigError, MilvusUnavailableError
from index.milvus.record import CorpusNotFoundError
from index.model.embed import ModelLoadError
from index.settings import Settings
from index.store.parallel_whoosh import ParallelWriteError
from index.store.segment import SegmentError
from index.writer import DiskFullError, IndexChangedError, UnknownArticleError
from search.views.view import Grouping, Sorting

err_console = Console(stderr=True, soft_wrap=True)  # error lines stay whole for grep and tests
KNOWN_ERRORS = (IngestError, IndexNotFoundError, IndexMismatchError, ModelLoadError, EmptyCorpusError, ValueError,
                WriterBusyError, FileNotFoundError, ParallelWriteError, SegmentError, DiskFullError, IndexChangedError,
                UnknownArticleError, UnreadableCommitError, MilvusConfigError, MilvusUnavailableError, CorpusNotFoundError)

IndexDir = Annotated[Optional[Path], typer.Option("--index-dir", help="Index folder (default: $ZHSEARCH_INDEX_DIR or .zhsearch/index).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]


class ModeChoice(str, Enum):
    bm25 = "bm25"
    dense = "dense"
    hybrid = "hybrid"


GroupChoice = Enum("GroupChoice", {name: name for name in get_args(Grouping)}, type=str)  # search/views/view.py's
SortChoice = Enum("SortChoice", {name: name for name in get_args(Sorting)}, type=str)


class EvalMode(str, Enum):
    all = "all"
    bm25 = "bm25"
    dense = "dense"
    hybrid = "hybrid"


def load_settings(index_dir: Path | None = None, **overrides: object) -> Settings:
    """Settings from the environment, with the options given on the command line on top."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = Settings()
    update = {key: value for key, value in overrides.items() if value is not None}
    if index_dir is not None:
        update["index_dir"] = index_dir
    return settings.model_copy(update=update) if update else settings


def fail(err: Exception | str) -> None:
    """Print a known error as one line and exit 2 (no traceback)."""
    err_console.print(f"[red]error:[/] {err}")
    raise typer.Exit(2)


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on `host`:`port` (0: a free port), for a server to serve; OSError if it cannot be
    (socket.gaierror: no such host). Listening at once: another process cannot bind the port in between."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(socket.SOMAXCONN)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(host: str, port: int) -> str:
    """http://host:port/, an IPv6 address in brackets."""
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
