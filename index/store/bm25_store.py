"""Whoosh index of a segment's paragraphs: schema, build, open (written once: segments never change)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from whoosh import index as whoosh_index
from whoosh.analysis import Token as WhooshToken
from whoosh.analysis import Tokenizer as WhooshTokenizer
from whoosh.fields import ID, NUMERIC, TEXT, Schema

from index.store import whoosh_files, whoosh_fixes
from index.models import Paragraph
from index.store.parallel_whoosh import write_parallel
from index.tokenize import Token, Tokenizer, normalize, shared_tokenizer

WHOOSH_DIR = "whoosh"
# Whoosh pickles the schema, analyzer class included, into every index: indexes written before the
# stores moved into index/store/ name this module `index.bm25_store`. Keep that name importable.
sys.modules.setdefault("index.bm25_store", sys.modules[__name__])


whoosh_fixes.install()  # segment names from the OS's randomness; AND NOT when NOT's first match comes first
whoosh_files.install()  # compound sub-files read in place from the memory map, not copied

TITLE_BOOST = 2.0  # a title match counts as two body matches in BM25F
WRITER_MB = 256  # memory of each Whoosh writer (process) before it flushes a run to disk
WRITER_BATCH = 500  # paragraphs the parent hands a writer process at a time (a pickled file each)
# Paragraphs from which a build writes Whoosh in parallel: below, one process takes about half a
# minute at most (100k: 165 s alone, 83 s in two), not worth forking writers and extra segments.
PARALLEL_FROM = 20_000
MAX_PROCS = 4


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask: a container's or taskset's limit, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # no affinity call on this platform
        return os.cpu_count() or 1


def writer_procs(paragraphs: int, cpus: int | None = None) -> int:
    """How many processes write a Whoosh index of `paragraphs` (one per CPU from PARALLEL_FROM on, at most MAX_PROCS)."""
    cpus = cpus if cpus is not None else usable_cpus()
    return max(1, min(cpus, MAX_PROCS)) if paragraphs >= PARALLEL_FROM else 1


class JiebaWhooshTokenizer(WhooshTokenizer):
    """Whoosh adapter over `index.tokenize.Tokenizer`.

    Whoosh pickles the schema into the index, so this pickles only the tokenizer's
    configuration and rebuilds the jieba tokenizer on first use.
    """

    def __init__(self, fold_traditional: bool = True, user_dict: str | None = None,
                 cache_dir: str | None = None) -> None:
        self.fold_traditional = fold_traditional
        self.user_dict = user_dict
        self.cache_dir = cache_dir

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JiebaWhooshTokenizer) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((self.fold_traditional, self.user_dict))

    @property
    def tokenizer(self) -> Tokenizer:
        return shared_tokenizer(self.fold_traditional, Path(self.user_dict) if self.user_dict else None,
                                Path(self.cache_dir) if self.cache_dir else None)

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "", **kwargs):
        token = WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if tokenize:
            pieces = self.tokenizer(value)
        else:  # wildcard and range terms: normalised but kept whole
            pieces = [Token(normalize(value, self.fold_traditional), 0, len(value))]
        for pos, piece in enumerate(pieces):
            token.text = piece.term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[piece.start:piece.end]
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + piece.start
                token.endchar = start_char + piece.end
            yield token


def make_schema(tokenizer: Tokenizer) -> Schema:
    """Paragraph text and article title analysed by the shared tokenizer; ids and metadata as IDs."""
    analyzer = JiebaWhooshTokenizer(
        tokenizer.fold_traditional,
        str(tokenizer.user_dict) if tokenizer.user_dict else None,
        str(tokenizer.cache_dir) if tokenizer.cache_dir else None,
    )
    return Schema(
        paragraph_id=ID(stored=True, unique=True),
        article_id=ID(stored=True),
        source=ID(stored=True),
        date=ID(stored=True),
        position=NUMERIC(stored=True),
        title=TEXT(analyzer=analyzer, field_boost=TITLE_BOOST),
        text=TEXT(analyzer=analyzer, phrase=True),
    )


def _document(paragraph: Paragraph) -> dict[str, object]:
    return {
        "paragraph_id": paragraph.id,
        "article_id": paragraph.article_id,
        "source": paragraph.source,
        "date": paragraph.date or "",
        "position": paragraph.position,
        "title": paragraph.title,
        "text": paragraph.text,
    }


def _add_all(ix: whoosh_index.Index, paragraphs: Iterable[Paragraph]) -> None:
    """One Whoosh writer adds `paragraphs` in order (document n is the n-th) and commits."""
    with ix.writer(limitmb=WRITER_MB) as writer:
        for paragraph in paragraphs:
            writer.add_document(**_document(paragraph))


@dataclass
class BM25Store:
    """An open Whoosh index over paragraphs."""

    index: whoosh_index.Index

    @classmethod
    def build(cls, folder: Path, tokenizer: Tokenizer, paragraphs: Iterable[Paragraph], procs: int = 1,
              in_memory: bool = False) -> "BM25Store":
        """Create a new Whoosh index in `folder/whoosh` holding `paragraphs`.

        With `procs` > 1, that many forked processes tokenise and write, each its own segment
        (index/store/parallel_whoosh.py; no merge pass at the end); searches read every segment.
        With `in_memory` (a write's small segment: it is held whole in memory), Whoosh writes into
        memory and only its two finished files go to disk: not the ~15 part and lock files it
        creates and removes on the way (~2.7 of a 3-paragraph segment's ~11 ms).
        """
        path = folder / WHOOSH_DIR
        path.mkdir(parents=True, exist_ok=True)
        if in_memory:
            with whoosh_fixes.ram_storage() as storage:
                _add_all(storage.create_index(make_schema(tokenizer)), paragraphs)
                for name, data in storage.files.items():
                    (path / name).write_bytes(data)
            return cls.open(folder)
        ix = whoosh_index.create_in(str(path), make_schema(tokenizer))
        if procs > 1:
            write_parallel(ix, map(_document, paragraphs), procs, WRITER_MB, WRITER_BATCH)
        else:
            _add_all(ix, paragraphs)
        return cls(ix)

    @classmethod
    def open(cls, folder: Path) -> "BM25Store":
        """Open the Whoosh index in `folder/whoosh`."""
        return cls(whoosh_index.open_dir(str(folder / WHOOSH_DIR)))

    def doc_count(self) -> int:
        return self.index.doc_count()
