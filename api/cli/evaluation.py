"""The evaluation commands of zhsearch: eval (a local index or a running service), pool and judge."""

from __future__ import annotations

import errno
import json
import socket
from pathlib import Path
from typing import Annotated, Optional

import typer

from api.cli.common import (KNOWN_ERRORS, EvalMode, GroupChoice, IndexDir, Quiet, fail, listening_socket,
                            load_settings, url_of)


def register(app: typer.Typer) -> None:
    """Add `eval`, `pool` and `judge` to the command line."""
    app.command("eval")(evaluate)
    app.command("pool")(pool_command)
    app.command("judge")(judge_command)


def evaluate(dataset: Annotated[Path, typer.Argument(help="A BEIR-format dataset folder.")],
             mode: Annotated[EvalMode, typer.Option("--mode", "-m")] = EvalMode.all,
             as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: mode -> metrics.")] = False,
             compare: Annotated[bool, typer.Option("--compare", help="Paired significance tests between modes.")] = False,
             per_query: Annotated[bool, typer.Option("--per-query", help="Queries where hybrid loses rank.")] = False,
             run_dir: Annotated[Optional[Path], typer.Option(help="Write each mode's run in TREC format here.")] = None,
             report: Annotated[Optional[Path], typer.Option(help="Write a Markdown report and PNG chart here.")] = None,
             tune: Annotated[bool, typer.Option("--tune", help="Cross-validate fusion settings.")] = False,
             folds: Annotated[int, typer.Option(min=2, max=20, help="Folds for --tune.")] = 5,
             alpha: Annotated[Optional[float], typer.Option(min=0.0, max=1.0)] = None,
             fusion: Annotated[Optional[str], typer.Option(help="adaptive, weighted or rrf")] = None,
             k0: Annotated[Optional[int], typer.Option(min=1, max=10000)] = None,
             condensed: Annotated[bool, typer.Option(
                 "--condensed", help="Metrics over judged documents only (unjudged hits dropped from each run).")] = False,
             url: Annotated[Optional[str], typer.Option(
                 help="Evaluate the running service at this address (its corpus indexed) instead of a local index.")] = None,
             group: Annotated[Optional[GroupChoice], typer.Option(
                 help="The unit scored: article ranks articles by their best paragraph (as group=article shows them) "
                      "and grades each by its best judged paragraph; default: what the qrels judge.")] = None,
             index_dir: IndexDir = None, quiet: Quiet = False) -> None:
    """Evaluate each mode on a BEIR dataset (its corpus index is built once and reused). Beside the metrics,
    judged@10: the share of each mode's top 10 that the qrels judge."""
    from index.model.passage_vectors import bound_model_caches

    bound_model_caches()  # it may index a corpus: before torch loads
    from eval.datasets import DatasetError, load_dataset
    from eval.evaluate import eval_index_dir, evaluate_dataset
    from eval.summary import Extras, summarize

    if fusion not in (None, "adaptive", "weighted", "rrf"):
        fail(ValueError(f"--fusion {fusion!r}: use adaptive, weighted or rrf"))
    if (per_query or tune) and mode is not EvalMode.all:
        fail(ValueError("--per-query and --tune compare modes: use --mode all"))
    if url is not None:
        if tune or index_dir is not None or k0 is not None:
            fail(ValueError("--url evaluates the service as it answers: --tune, --index-dir and --k0 need a local index"))
        from eval.remote import evaluate_service

        try:
            result = evaluate_service(load_dataset(dataset), url, None if mode is EvalMode.all else [mode.value],
                                      quiet=quiet, condense=condensed, alpha=alpha, fusion=fusion,
                                      group=group.value if group else None)
            out = summarize(result, Extras(compare, per_query, run_dir, report, False, folds))
        except (DatasetError, *KNOWN_ERRORS) as err:
            fail(err)
        emit(result, out, as_json)
        return
    settings = load_settings(None, alpha=alpha, fusion=fusion, k0=k0)
    try:
        folder = index_dir or eval_index_dir(settings, load_dataset(dataset))
        settings = settings.model_copy(update={"index_dir": folder})
        modes = None if mode is EvalMode.all else [mode.value]
        result = evaluate_dataset(dataset, settings, modes, quiet=quiet, condense=condensed,
                                  group=group.value if group else None)
        out = summarize(result, Extras(compare, per_query, run_dir, report, tune, folds))
    except (DatasetError, *KNOWN_ERRORS) as err:
        fail(err)
    emit(result, out, as_json)


def emit(result, out: dict, as_json: bool) -> None:
    """An evaluation's summary: one JSON object, or a table for people."""
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    print_summary(result.dataset.name, len(result.dataset.judged_queries()), out)


def pool_command(dataset: Annotated[Path, typer.Argument(help="A BEIR-format dataset folder.")],
                 out: Annotated[Path, typer.Option("--out", help="The pool, one JSON object a line.")],
                 depth: Annotated[int, typer.Option(min=1, max=100, help="Top results of each mode pooled.")] = 10,
                 modes: Annotated[list[EvalMode], typer.Option("--modes", help="Modes pooled (repeat).")] = [EvalMode.all],
                 run: Annotated[Optional[list[Path]], typer.Option(
                     "--run", help="A TREC run file whose top results are pooled too (repeat).")] = None,
                 level: Annotated[Optional[str], typer.Option(
                     help="paragraph or article (default: the qrels' own; paragraphs when nothing is judged yet)")] = None,
                 index_dir: IndexDir = None, quiet: Quiet = False) -> None:
    """Pool every mode's top results that the qrels do not judge yet, for judging (`zhsearch judge`)."""
    from index.model.passage_vectors import bound_model_caches

    bound_model_caches()  # it may index a corpus: before torch loads
    from eval.datasets import DatasetError, load_dataset
    from eval.pool import pool, read_trec_runs, write_pool

    if level not in (None, "paragraph", "article"):
        fail(ValueError(f"--level {level!r}: use paragraph or article"))
    chosen = None if EvalMode.all in modes else [m.value for m in modes]
    try:
        data = load_dataset(dataset)
        extra = read_trec_runs(run or [])
        items = pool(data, dataset_searcher(data, index_dir, quiet), depth, chosen, extra, level)
        write_pool(items, out)
    except (DatasetError, *KNOWN_ERRORS) as err:
        fail(err)
    queries = len({item.query_id for item in items})
    typer.echo(f"{len(items)} unjudged results of {queries} queries pooled into {out}")


def dataset_searcher(data, index_dir: Path | None, quiet: bool):
    """A searcher over the dataset's corpus index (`index_dir`, or the evaluation cache), built first if missing."""
    from eval.evaluate import ensure_corpus_index, eval_index_dir
    from index.model.runtime import load_encoder
    from search.engine import open_searcher

    settings = load_settings(None)
    settings = settings.model_copy(update={"index_dir": index_dir or eval_index_dir(settings, data)})
    encoder = load_encoder(settings)
    ensure_corpus_index(data, settings, encoder, quiet)
    return open_searcher(settings, encoder)


def judge_command(dataset: Annotated[Path, typer.Argument(help="A BEIR-format dataset folder: grades go to its qrels.")],
                  pool_file: Annotated[Optional[Path], typer.Option(
                      "--pool", help="A pool from `zhsearch pool` (default: pool every mode's top 10 now).")] = None,
                  host: Annotated[str, typer.Option(help="Address to serve the page on (loopback: no login).")] = "127.0.0.1",
                  port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: a free one).")] = 8001,
                  index_dir: IndexDir = None, quiet: Quiet = False) -> None:
    """Serve a page that shows one pooled result at a time and appends each grade (0/1/2 by key) to the qrels."""
    from index.model.passage_vectors import bound_model_caches

    bound_model_caches()  # without --pool it may index a corpus: before torch loads
    import uvicorn

    from api.judge_app import create_judge_app
    from eval.datasets import DatasetError, load_dataset
    from eval.judging import Judging, JudgeBusyError
    from eval.pool import read_pool

    try:
        data = load_dataset(dataset)
        if pool_file is not None:
            items = read_pool(pool_file)
        else:
            from eval.pool import pool

            items = pool(data, dataset_searcher(data, index_dir, quiet))
        judging = Judging.of_dataset(dataset, items)
    except (DatasetError, JudgeBusyError, *KNOWN_ERRORS) as err:
        fail(err)
    try:
        sock = listening_socket(host, port)  # here: the address printed is the page's (port 0: a free one)
    except OSError as err:
        judging.close()
        host_wrong = isinstance(err, socket.gaierror) or err.errno == errno.EADDRNOTAVAIL  # not this machine's
        fix = "choose another --host" if host_wrong else "choose another --port (0: a free one)"
        fail(f"cannot serve the page on {host}:{port}: {err.strerror}; {fix}")
    try:
        state = judging.state()
        typer.echo(f"judging {state['dataset']}: {state['total'] - state['graded']} of {state['total']} pooled "
                   f"results to grade; open {url_of(host, sock.getsockname()[1])} (grades go to {judging.qrels_path})")
        server = uvicorn.Server(uvicorn.Config(create_judge_app(judging), host=host, port=sock.getsockname()[1],
                                               access_log=False, log_level="warning"))
        server.run(sockets=[sock])
    finally:
        sock.close()
        judging.close()


def print_summary(name: str, queries: int, out: dict) -> None:
    """The evaluation as a table and short notes, for people."""
    scores = {mode: values for mode, values in out.items() if mode in ("bm25", "dense", "hybrid")}
    metrics = list(next(iter(scores.values())))
    typer.echo(f"{name}: {queries} queries")
    if out.get("setup"):
        from eval.report import describe_setup

        typer.echo(describe_setup(out["setup"]))
    typer.echo("mode    " + "  ".join(f"{m:>9}" for m in metrics))
    for mode, values in scores.items():
        typer.echo(f"{mode:<8}" + "  ".join(f"{values[m]:>9.4f}" for m in metrics))
    for row in out.get("comparisons", []):
        if row["metric"] == "ndcg@10":
            verdict = "significant" if row["significant"] else "not significant"
            typer.echo(f"{row['a']} vs {row['b']}: ndcg@10 {row['difference']:+.4f}, p={row['p_value']:.4f} ({verdict})")
    if "per_query" in out:
        typer.echo(f"{len(out['per_query'])} queries where hybrid ranks the answer lower than the better single mode")
        for row in out["per_query"][:10]:
            typer.echo(f"  {row['query_id']}: hybrid {row['hybrid_rank']}, {row['best_single_mode']} "
                       f"{row['best_single_rank']}  {row['query']}")
    if "report" in out:
        typer.echo(f"report: {out['report']}")
    if "tuning" in out:
        tuning = out["tuning"]
        typer.echo(f"tuning ({len(tuning['folds'])}-fold CV, {tuning['metric']}): held-out "
                   f"{[f['held_out'] for f in tuning['folds']]}, mean {tuning['held_out_mean']}")
        typer.echo(f"recommended {tuning['recommended']}; apply with: {tuning['apply']}")
