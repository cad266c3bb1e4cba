"""Evaluate a running zhsearch service: every judged query sent over HTTP, the answers scored as `zhsearch eval` scores.

What is measured is what users meet: the service's own fusion, settings, backend and index
(its corpus indexed beforehand). Each mode's run is what a local evaluation ranks: bm25 and dense,
the service's top `DEPTH` paragraphs (one page, the API's largest); hybrid, its whole fused list
(paged: at most 2 x k0), each collapsed to the judged unit and cut at DEPTH units. The
service must hold every judged id (as paragraphs or as articles), else it is refused with the
ids it lacks. A query the service rejects as invalid (422: over its length limit) scores an empty
ranking, and the number of such queries is reported; any other error stops the evaluation. The API rounds scores to 6 places: hits closer than that
may be ordered by id where a local evaluation orders them by the unrounded score.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Callable
from urllib.parse import quote

import httpx
from rich.console import Console
from rich.progress import track

from eval.datasets import Dataset
from eval.evaluate import Evaluation, score_modes
from eval.runs import Run, scored_level, to_run
from index.models import article_id_of
from search.fusion import FusionParams
from search.hybrid import MODES

DEPTH = 100  # hits asked for per query and mode: the API's largest page
MAX_OFFSET = 1000  # the API's largest offset
WORKERS = 4  # queries in flight at once (the service batches concurrent queries itself)
TIMEOUT_S = 60.0  # one request, the first query included (a service may still be warming its model)
SAMPLE = 20  # judged ids looked up before deciding the level of the rest


class ServiceError(ValueError):
    """The service cannot be evaluated: unreachable, unhealthy, or without the qrels' documents; says which."""


def get_json(client: httpx.Client, path: str) -> dict:
    """GET `path`, its JSON; a ServiceError naming the URL for anything but 200."""
    try:
        answer = client.get(path)
    except httpx.HTTPError as err:
        raise ServiceError(f"cannot reach {client.base_url}{path} ({type(err).__name__}: {err}): start the service "
                           "(`zhsearch serve`) or fix --url") from err
    if answer.status_code != 200:
        raise ServiceError(f"{client.base_url}{path} answered {answer.status_code}: {answer.text[:300]}")
    return answer.json()


def exists(client: httpx.Client, path: str) -> bool:
    """Whether GET `path` finds it (200) or not (404); a ServiceError for anything else."""
    try:
        answer = client.get(path)
    except httpx.HTTPError as err:
        raise ServiceError(f"cannot reach {client.base_url} ({type(err).__name__}): start the service or fix --url") \
            from err
    if answer.status_code not in (200, 404):
        raise ServiceError(f"{client.base_url}{path} answered {answer.status_code}: {answer.text[:300]}")
    return answer.status_code == 200


def missing(client: httpx.Client, ids: list[str], route: str) -> list[str]:
    """The ids `route` (`/paragraphs` or `/articles`) does not know, looked up WORKERS at a time."""
    with ThreadPoolExecutor(WORKERS) as pool:
        found = list(pool.map(lambda doc: exists(client, f"{route}/{quote(doc, safe='')}"), ids))
    return [doc for doc, ok in zip(ids, found) if not ok]


def service_level(client: httpx.Client, qrels: dict[str, dict[str, int]]) -> str:
    """"paragraph" when the service holds every judged id as a paragraph, "article" when as an article;
    else a ServiceError with the ids it lacks (a service over another corpus)."""
    judged = sorted({doc for docs in qrels.values() for doc in docs})
    if not missing(client, judged[:SAMPLE], "/paragraphs") and not missing(client, judged[SAMPLE:], "/paragraphs"):
        return "paragraph"
    lacking = missing(client, judged, "/articles")
    if not lacking:
        return "article"
    raise ServiceError(f"{client.base_url} holds {len(judged) - len(lacking)} of the {len(judged)} documents the "
                       f"qrels judge (missing: {', '.join(lacking[:5])}{', …' if len(lacking) > 5 else ''}): index "
                       "the dataset's corpus in that service first")


def ask(client: httpx.Client, text: str, mode: str, fusion: dict[str, object]) -> list[dict] | None:
    """The service's ranking for one query as a local evaluation takes it: bm25 and dense, the top DEPTH
    paragraphs; hybrid, every fused paragraph (paged), copies of a story included (dedup=false: a local evaluation
    ranks every unit). None: the service rejected the query as invalid (422)."""
    hits: list[dict] = []
    while True:
        try:
            answer = client.post("/search", json={"q": text, "k": DEPTH, "offset": len(hits), "mode": mode,
                                                     "dedup": False, **fusion})
        except httpx.HTTPError as err:
            raise ServiceError(f"{client.base_url}/search failed ({type(err).__name__}: {err})") from err
        if answer.status_code == 422:
            return None
        if answer.status_code != 200:
            raise ServiceError(f"{client.base_url}/search answered {answer.status_code}: {answer.text[:300]}")
        body = answer.json()
        hits += body["hits"]
        if mode != "hybrid" or not body["hits"] or len(hits) >= body["total"] or len(hits) > MAX_OFFSET:
            return hits


def service_runs(client: httpx.Client, queries: dict[str, str], modes: list[str], level: str,
                 fusion: dict[str, object], quiet: bool) -> tuple[dict[str, Run], int]:
    """Each mode's run from the service's answers, and how many (query, mode) requests it rejected."""
    runs: dict[str, Run] = {m: {} for m in modes}
    rejected = 0
    jobs = [(qid, mode) for mode in modes for qid in queries]
    with ThreadPoolExecutor(WORKERS) as pool:
        answers = pool.map(lambda job: ask(client, queries[job[0]], job[1], fusion), jobs)
        progress = track(zip(jobs, answers), total=len(jobs), description="queries",
                         console=Console(stderr=True, quiet=quiet), transient=True)
        for (qid, mode), hits in progress:
            if hits is None:
                rejected += 1
                hits = []
            article_of = {hit["paragraph_id"]: hit["article_id"] for hit in hits}
            unit: Callable[[str], str] = (lambda pid: pid) if level == "paragraph" else article_of.__getitem__
            runs[mode][qid] = to_run([(hit["paragraph_id"], hit["score"]) for hit in hits], unit, DEPTH)
    return runs, rejected


def evaluate_service(dataset: Dataset, url: str, modes: list[str] | None = None, quiet: bool = False,
                     condense: bool = False, alpha: float | None = None, fusion: str | None = None,
                     group: str | None = None) -> Evaluation:
    """Scores of each requested mode (default: all) of the service at `url` on `dataset`, as evaluate_dataset's
    (`group`: the unit scored, as there)."""
    chosen = modes or list(MODES)
    overrides = {key: value for key, value in (("alpha", alpha), ("fusion", fusion)) if value is not None}
    with httpx.Client(base_url=url.rstrip("/"), timeout=TIMEOUT_S) as client:
        stats = get_json(client, "/stats")
        level = service_level(client, dataset.qrels)
        if group is not None:
            level, qrels = scored_level(dataset.qrels, level, group, article_id_of)
            dataset = replace(dataset, qrels=qrels)
        served, rejected = service_runs(client, dataset.judged_queries(), chosen, level, overrides, quiet)
    if rejected and rejected == len(dataset.judged_queries()) * len(chosen):
        raise ServiceError(f"{url} rejected every query as invalid (422): is it a zhsearch service of this version?")
    runs, scores = score_modes(dataset.qrels, served, chosen, condense)
    setup = {"url": url, "backend": stats.get("backend"), "commit": stats.get("commit"), "model": {**(stats.get("model") or {}), **(stats.get("model_runtime") or {})},
             "paragraphs": stats.get("paragraphs"), "judged_level": level, "rejected_queries": rejected,
             "fusion": overrides, "condensed": condense}
    unit = (lambda pid: pid) if level == "paragraph" else article_id_of
    return Evaluation(dataset, FusionParams(), scores, runs, None, unit, setup)
