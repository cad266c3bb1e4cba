"""IR metrics of a run against qrels, computed by ranx."""

from __future__ import annotations

from ranx import Qrels, Run, evaluate

METRICS = ["ndcg@10", "mrr@10", "recall@1", "recall@5", "recall@10", "map@100"]


def to_ranx_run(run: dict[str, dict[str, float]], name: str) -> Run:
    """A ranx Run; a query with no hits keeps an empty ranking (it scores 0, not skipped)."""
    return Run({qid: docs for qid, docs in run.items()}, name=name)


def score(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]], name: str = "run") -> dict[str, float]:
    """Each metric in METRICS averaged over the judged queries, rounded to 4 places."""
    result = evaluate(Qrels(qrels), to_ranx_run(run, name), METRICS, make_comparable=True)
    return {metric: round(float(value), 4) for metric, value in result.items()}
