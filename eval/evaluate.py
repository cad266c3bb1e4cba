"""Evaluate a BEIR dataset: build or reuse an index of its corpus, run every query, score each mode."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from rich.console import Console

from eval.datasets import Dataset, load_dataset
from eval.holes import JUDGED_DEPTH, condensed, judged_at
from eval.metrics import score
from eval.runs import Legs, Run, Unit, judged_level, leg_rankings, mode_runs, scored_level, unit_of
from index.builder import build_index, fingerprint
from index.model.embed import Encoder
from index.model.probe import without_probe
from index.model.runtime import load_encoder
from index.commits import CURRENT_FILE, IndexNotFoundError, is_legacy, read_current
from index.ingest.sources import read_source
from index.manifest import IndexMismatchError, check_compatible
from index.settings import Settings
from index.tokenize import Tokenizer, tokenizer_from
from index.upgrade import upgrade_index
from search.engine import open_searcher
from search.fusion import FusionParams
from search.hybrid import MODES


@dataclass
class Evaluation:
    """Scores per mode, with the runs and leg rankings they came from (for tests, reports, tuning)."""

    dataset: Dataset
    params: FusionParams
    scores: dict[str, dict[str, float]]
    runs: dict[str, Run]
    legs: Legs | None  # None: a service evaluated over HTTP (eval/remote.py), whose legs are not seen
    unit: Unit
    setup: dict[str, object] = field(default_factory=dict)  # what was measured: fusion, model, sentences


def eval_index_dir(settings: Settings, dataset: Dataset) -> Path:
    """Where the index of a dataset's corpus is cached unless --index-dir says otherwise."""
    return settings.cache_dir / "eval" / dataset.name


def index_is_current(index_dir: Path, corpus_fp: str, encoder: Encoder, tokenizer: Tokenizer,
                     sentence_vectors: bool = True) -> bool:
    """True when `index_dir` holds this corpus, built with this model, tokenizer and sentence vectors setting.

    Stricter than serving: every model setting must match (length limit and number type
    too), since an evaluation measures exactly the configuration it names.
    """
    try:
        _, manifest = read_current(index_dir)
        check_compatible(manifest, encoder.config(), tokenizer.config())
    except (IndexNotFoundError, IndexMismatchError, FileNotFoundError, ValueError):
        return False
    return (manifest.corpus_fingerprint == corpus_fp and without_probe(manifest.model) == without_probe(encoder.config())
            and manifest.sentence_vectors == sentence_vectors)


def ensure_corpus_index(dataset: Dataset, settings: Settings, encoder: Encoder, quiet: bool) -> None:
    """Build the dataset's corpus index in settings.index_dir unless an identical one is there."""
    tokenizer = tokenizer_from(settings)
    articles = read_source(dataset.corpus)
    if (settings.index_dir / CURRENT_FILE).is_file() and is_legacy(settings.index_dir):
        upgrade_index(settings.index_dir)  # an index cached before segments: keep its vectors
    if index_is_current(settings.index_dir, fingerprint(articles), encoder, tokenizer, settings.sentence_vectors):
        Console(stderr=True, quiet=quiet).print(f"reusing the index in {settings.index_dir}")
        return
    build_index(settings.index_dir, articles, tokenizer, encoder, [str(dataset.corpus)], quiet=quiet,
                ann_threshold=settings.ann_threshold, sentence_vectors=settings.sentence_vectors)


def eval_collection(settings: Settings, dataset: Dataset) -> str:
    """The Milvus corpus an evaluation searches: its own, beside (never replacing) the configured one."""
    return f"{settings.milvus_collection}_eval_{re.sub(r'[^A-Za-z0-9_]', '_', dataset.name)}"[:255]


def ensure_milvus_copy(settings: Settings, quiet: bool) -> None:
    """Export the dataset's corpus index (settings.index_dir) into settings.milvus_collection unless that corpus is a
    copy of this very commit point."""
    from index.milvus.connection import connect
    from index.milvus.export import export_index
    from index.milvus.record import CorpusNotFoundError, read_meta

    name, _ = read_current(settings.index_dir)
    source = f"{settings.index_dir.resolve()}@{name}"
    conn = connect(settings)
    try:
        try:
            record, _ = read_meta(conn)
            if record.exported_from == source:
                Console(stderr=True, quiet=quiet).print(f"reusing the Milvus copy {conn.location}")
                return
        except CorpusNotFoundError:
            pass
        Console(stderr=True, quiet=quiet).print(f"copying the index into Milvus ({conn.location})")
        export_index(settings.index_dir, conn, settings.ann_threshold, replace=True, quiet=quiet)
    finally:
        conn.close()


def score_modes(qrels: dict[str, dict[str, int]], served: dict[str, Run], modes: list[str],
                condense: bool) -> tuple[dict[str, Run], dict[str, dict[str, float]]]:
    """Each mode's run as scored (condensed to judged documents with `condense`) and its metrics, with judged@10
    of the run as served."""
    runs = {m: condensed(qrels, served[m]) if condense else served[m] for m in modes}
    scores = {m: {**score(qrels, runs[m], m), f"judged@{JUDGED_DEPTH}": judged_at(qrels, served[m])} for m in modes}
    return runs, scores


def evaluate_dataset(folder: Path, settings: Settings, modes: list[str] | None = None,
                     params: FusionParams | None = None, encoder: Encoder | None = None,
                     quiet: bool = False, depth: int = 100, condense: bool = False,
                     group: str | None = None) -> Evaluation:
    """Scores of each requested mode (default: all) on the dataset in `folder`, with judged@10 of each mode's
    run as served; with `condense`, the metrics (and the runs kept) over judged documents only (eval/holes.py);
    `group` ("paragraph" or "article"; None: what the qrels judge) the unit scored (eval/runs.scored_level).

    Legs are retrieved `max(k0, depth)` deep once, so tuning can try smaller k0 without re-querying.
    """
    dataset = load_dataset(folder)
    encoder = encoder or load_encoder(settings)
    ensure_corpus_index(dataset, settings, encoder, quiet)
    if settings.backend == "milvus":  # the same corpus, searched in Milvus
        settings = settings.model_copy(update={"milvus_collection": eval_collection(settings, dataset)})
        ensure_milvus_copy(settings, quiet)
    searcher = open_searcher(settings, encoder)
    params = params or searcher.defaults
    legs = leg_rankings(searcher, dataset.judged_queries(), max(params.k0, depth), quiet)
    level, qrels = scored_level(dataset.qrels, judged_level(dataset.qrels, legs.article_of), group,
                                legs.article_of.__getitem__)
    dataset = replace(dataset, qrels=qrels)
    unit = unit_of(level, legs.article_of)
    served = mode_runs(legs, params, unit)
    chosen = modes or list(MODES)
    runs, scores = score_modes(dataset.qrels, served, chosen, condense)
    sentence_weight = searcher.corpus.info.sentence_weight
    model = {**without_probe(encoder.config()), **encoder.describe()}
    setup = {"fusion": asdict(params), "model": model, "sentence_weight": sentence_weight,
             "index_dir": str(settings.index_dir), "condensed": condense, "backend": searcher.corpus.info.backend,
             "searched": searcher.corpus.info.location}
    return Evaluation(dataset, params, scores, runs, legs, unit, setup)
