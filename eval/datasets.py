"""BEIR-format datasets: corpus.jsonl (or a pointer to another source), queries.jsonl, qrels/<split>.tsv."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from index.ingest.sources import IngestError, read_records

CORPUS_POINTER = "corpus.source"  # one line: a path, relative to the dataset folder, that `zhsearch index` reads


class DatasetError(ValueError):
    """A dataset folder is not in the BEIR layout; the message names what is missing."""


@dataclass(frozen=True)
class Dataset:
    """Queries and graded judgements of a BEIR dataset; the corpus stays on disk for the indexer."""

    name: str
    corpus: Path
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    kinds: dict[str, str] = field(default_factory=dict)  # query id -> kind, where queries.jsonl tags one

    def judged_queries(self) -> dict[str, str]:
        """The queries that have at least one judgement (the only ones a metric can score)."""
        return {qid: text for qid, text in self.queries.items() if qid in self.qrels}


def read_queries(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(query id -> text, query id -> kind) from queries.jsonl."""
    queries, kinds = {}, {}
    try:
        for number, row in read_records(path):
            if "_id" not in row or "text" not in row:
                raise DatasetError(f'{path}, line {number}: expected {{"_id": ..., "text": ...}}')
            queries[str(row["_id"])] = str(row["text"])
            if "kind" in row:
                kinds[str(row["_id"])] = str(row["kind"])
    except IngestError as err:
        raise DatasetError(str(err)) from err
    return queries, kinds


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """query id -> {doc id: grade}; the header line `query-id corpus-id score` is skipped."""
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle, delimiter="\t"), start=1):
            if not row or row[0] == "query-id":
                continue
            try:
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
            except (IndexError, ValueError) as err:
                raise DatasetError(f"{path}, line {number}: expected query-id<TAB>corpus-id<TAB>score") from err
    return qrels


def corpus_of(folder: Path) -> Path:
    """The dataset's corpus: its corpus.jsonl, or the source its corpus.source names."""
    if (folder / "corpus.jsonl").is_file():
        return folder / "corpus.jsonl"
    pointer = folder / CORPUS_POINTER
    if pointer.is_file():
        return (folder / pointer.read_text(encoding="utf-8").strip()).resolve()
    raise DatasetError(f"{folder} is not a BEIR dataset: no corpus.jsonl (or {CORPUS_POINTER}) in it")


def load_dataset(folder: Path, split: str = "test") -> Dataset:
    """The dataset in `folder` (BEIR layout)."""
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such dataset folder")
    needed = [folder / "queries.jsonl", folder / "qrels" / f"{split}.tsv"]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        raise DatasetError(f"{folder} is not a BEIR dataset: missing {', '.join(missing)}")
    queries, kinds = read_queries(needed[0])
    return Dataset(folder.resolve().name, corpus_of(folder), queries, read_qrels(needed[1]), kinds)
