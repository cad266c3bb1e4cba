"""Pooling (as TREC does): every mode's top results for every query that the qrels do not judge yet, to be judged.

The pool of a query is the union of each mode's top `depth` (and of each extra TREC run's) at the
qrels' level: paragraphs where the qrels judge paragraphs (or judge nothing yet), else documents
(a BEIR document is an article). Each item names the modes that retrieved it and its best rank,
with the title and text a judge reads (a document's text is its paragraphs).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ranx import Run as RanxRun

from eval.datasets import Dataset, DatasetError
from eval.holes import ranked_ids
from eval.runs import Run, judged_level, leg_rankings, mode_runs, unit_of
from index.store.durable import write_atomic
from search.corpus import Corpus
from search.hybrid import MODES, Searcher


@dataclass
class PoolItem:
    """One (query, document) pair to judge."""

    query_id: str
    query: str
    doc_id: str
    title: str
    text: str
    found_by: list[str] = field(default_factory=list)  # modes and run names, in the order given
    best_rank: int = 0  # its best 1-based rank in any of them
    date: str | None = None  # its article's


def read_trec_runs(paths: list[Path]) -> dict[str, Run]:
    """Each TREC run file as name -> run (the file's stem names it); a DatasetError for one that is not."""
    runs = {}
    for path in paths:
        if not path.is_file():
            raise DatasetError(f"{path}: no such run file")
        try:
            runs[path.stem] = RanxRun.from_file(str(path), kind="trec").to_dict()
        except Exception as err:  # ranx raises whatever its parser meets
            raise DatasetError(f"{path} is not a TREC run (qid Q0 docid rank score tag a line): {err}") from err
    return runs


def unjudged_top(runs: dict[str, Run], qrels: dict[str, dict[str, int]], depth: int) -> dict[str, dict[str, tuple]]:
    """query -> doc -> (names that retrieved it in their top `depth`, best rank), for docs the qrels do not judge."""
    pooled: dict[str, dict[str, tuple[list[str], int]]] = {}
    for name, run in runs.items():
        for qid, ranking in run.items():
            judged = qrels.get(qid, {})
            for rank, doc in enumerate(ranked_ids(ranking)[:depth], start=1):
                if doc in judged:
                    continue
                names, best = pooled.setdefault(qid, {}).get(doc, ([], rank))
                pooled[qid][doc] = ([*names, name], min(best, rank))
    return pooled


def document_text(corpus: Corpus, doc_id: str, level: str) -> tuple[str, str, str | None]:
    """(title, text, date) a judge reads: the paragraph's, or the article's paragraphs joined by line breaks."""
    if level == "paragraph":
        paragraph = corpus.paragraph(doc_id)
        return (paragraph.title, paragraph.text, paragraph.date) if paragraph else ("", "", None)
    paragraphs = corpus.article_paragraphs(doc_id)
    if not paragraphs:
        return "", "", None
    return paragraphs[0].title, "\n".join(p.text for p in paragraphs), paragraphs[0].date


def pool(dataset: Dataset, searcher: Searcher, depth: int = 10, modes: list[str] | None = None,
         extra_runs: dict[str, Run] | None = None, level: str | None = None) -> list[PoolItem]:
    """The pool of every query of `dataset` (judged or not), ordered by query id, then best rank, then doc id.

    `level`: "paragraph" or "article"; None: the qrels' own (paragraphs when nothing is judged yet).
    """
    legs = leg_rankings(searcher, dataset.queries, max(searcher.defaults.k0, depth))
    level = level or judged_level(dataset.qrels, legs.article_of)
    unit = unit_of(level, legs.article_of)
    runs = {m: r for m, r in mode_runs(legs, searcher.defaults, unit, depth).items() if m in (modes or MODES)}
    clash = sorted(set(extra_runs or {}) & set(MODES))
    if clash:
        raise DatasetError(f"a run file named {clash[0]}.trec would pass for the {clash[0]} mode: rename it")
    runs.update(extra_runs or {})
    items = []
    for qid, docs in unjudged_top(runs, dataset.qrels, depth).items():
        for doc, (names, best) in docs.items():
            title, text, date = document_text(searcher.corpus, doc, level)
            items.append(PoolItem(qid, dataset.queries.get(qid, ""), doc, title, text, names, best, date))
    return sorted(items, key=lambda item: (item.query_id, item.best_rank, item.doc_id))


def write_pool(items: list[PoolItem], path: Path) -> None:
    """The pool as JSONL, written whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "".join(json.dumps(asdict(item), ensure_ascii=False) + "\n" for item in items))


def read_pool(path: Path) -> list[PoolItem]:
    """A pool file written by `write_pool` (or by hand: query_id, query, doc_id, title, text a line)."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such pool file (write one with `zhsearch pool`)")
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            items.append(PoolItem(**{k: row[k] for k in ("query_id", "query", "doc_id", "title", "text")},
                                  found_by=list(row.get("found_by", [])), best_rank=int(row.get("best_rank", 0)),
                                  date=row.get("date")))
        except (ValueError, KeyError, TypeError) as err:
            raise DatasetError(f"{path}, line {number}: not a pool item ({type(err).__name__}: {err})") from err
    return items
