"""What `zhsearch eval` reports: scores per mode, plus comparisons, losses, runs, report and tuning on request."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ranx import Run

from eval.compare import hybrid_losses, significance
from eval.evaluate import Evaluation
from eval.metrics import METRICS
from eval.report import write_report
from eval.tuning import cross_validate, how_to_apply


@dataclass(frozen=True)
class Extras:
    """The optional parts of an evaluation's output."""

    compare: bool = False
    per_query: bool = False
    run_dir: Path | None = None
    report_dir: Path | None = None
    tune: bool = False
    folds: int = 5


def save_trec_runs(evaluation: Evaluation, folder: Path) -> list[str]:
    """Each mode's run as `<dataset>.<mode>.trec` (TREC format); returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for mode, run in evaluation.runs.items():
        path = folder / f"{evaluation.dataset.name}.{mode}.trec"
        Run({qid: docs for qid, docs in run.items() if docs}, name=f"zhsearch-{mode}").save(str(path), kind="trec")
        paths.append(str(path))
    return paths


def summarize(evaluation: Evaluation, extras: Extras) -> dict[str, object]:
    """One JSON-ready object: mode -> metrics, and the extras asked for under their own keys."""
    out: dict[str, object] = dict(evaluation.scores)
    out["setup"] = evaluation.setup
    qrels, runs = evaluation.dataset.qrels, evaluation.runs
    comparisons = significance(qrels, runs, METRICS) if (extras.compare or extras.report_dir) and len(runs) > 1 else []
    if extras.compare:
        out["comparisons"] = comparisons
    losses = hybrid_losses(qrels, runs, evaluation.dataset.queries) if len(runs) == 3 else []
    if extras.per_query:
        out["per_query"] = losses
    if extras.run_dir:
        out["runs"] = save_trec_runs(evaluation, extras.run_dir)
    if extras.report_dir:
        queries = len(evaluation.dataset.judged_queries())
        out["report"] = str(write_report(extras.report_dir, evaluation.dataset.name, queries,
                                         evaluation.scores, comparisons, losses, evaluation.setup))
    if extras.tune:
        tuning = cross_validate(qrels, evaluation.legs, evaluation.unit, extras.folds, evaluation.params)
        tuning["apply"] = how_to_apply(tuning["recommended"], tuning["article_weight_tuned"])
        out["tuning"] = tuning
    return out
