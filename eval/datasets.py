"""BEIR-format datasets: corpus.jsonl, queries.jsonl and qrels/<split>.tsv."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path


class DatasetError(ValueError):
    """A dataset folder is not in the BEIR layout; the message names what is missing."""


@dataclass(frozen=True)
class Dataset:
    """Queries and graded judgements of a BEIR dataset; the corpus stays on disk for the indexer."""

    name: str
    corpus: Path
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]

    def judged_queries(self) -> dict[str, str]:
        """The queries that have at least one judgement (the only ones a metric can score)."""
        return {qid: text for qid, text in self.queries.items() if qid in self.qrels}


def read_queries(path: Path) -> dict[str, str]:
    queries = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    row = json.loads(line)
                    queries[str(row["_id"])] = str(row["text"])
                except (json.JSONDecodeError, KeyError, TypeError) as err:
                    raise DatasetError(f'{path}, line {number}: expected {{"_id": ..., "text": ...}} ({err})') from err
    return queries


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


def load_dataset(folder: Path, split: str = "test") -> Dataset:
    """The dataset in `folder` (BEIR layout)."""
    needed = [folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels" / f"{split}.tsv"]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        raise DatasetError(f"{folder} is not a BEIR dataset: missing {', '.join(missing)}")
    return Dataset(folder.resolve().name, needed[0], read_queries(needed[1]), read_qrels(needed[2]))
