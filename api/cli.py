"""The zhsearch command line: index, add, delete, optimize, upgrade, search, check, words, serve, eval."""

from __future__ import annotations

import json
import os
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from index.builder import EmptyCorpusError
from index.commits import IndexNotFoundError, UnreadableCommitError, WriterBusyError
from index.ingest.sources import IngestError
from index.manifest import IndexMismatchError
from index.model.embed import ModelLoadError
from index.settings import Settings
from index.store.parallel_whoosh import ParallelWriteError
from index.store.segment import SegmentError
from index.writer import DiskFullError, IndexChangedError, UnknownArticleError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Full-text and semantic search for Chinese news articles.")
err_console = Console(stderr=True, soft_wrap=True)  # error lines stay whole for grep and tests
KNOWN_ERRORS = (IngestError, IndexNotFoundError, IndexMismatchError, ModelLoadError, EmptyCorpusError, ValueError,
                WriterBusyError, FileNotFoundError, ParallelWriteError, SegmentError, DiskFullError, IndexChangedError,
                UnknownArticleError, UnreadableCommitError)

IndexDir = Annotated[Optional[Path], typer.Option("--index-dir", help="Index folder (default: $ZHSEARCH_INDEX_DIR or .zhsearch/index).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]


class ModeChoice(str, Enum):
    bm25 = "bm25"
    dense = "dense"
    hybrid = "hybrid"


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


def fail(err: Exception) -> None:
    """Print a known error as one line and exit 2 (no traceback)."""
    err_console.print(f"[red]error:[/] {err}")
    raise typer.Exit(2)


@app.command()
def index(paths: Annotated[list[Path], typer.Argument(help="Pages folder, .txt page, .jsonl articles or BEIR corpus.")],
          index_dir: IndexDir = None, quiet: Quiet = False) -> None:
    """Index articles anew: one new segment that replaces the whole index once complete (the old one serves until then)."""
    from index.model.passage_vectors import bound_model_caches

    bound_model_caches()  # before torch loads
    from index.builder import build_index
    from index.model.embed import SentenceTransformerEncoder
    from index.ingest.sources import read_sources
    from index.tokenize import tokenizer_from

    settings = load_settings(index_dir)
    try:
        articles = read_sources(paths)
        manifest = build_index(settings.index_dir, articles, tokenizer_from(settings),
                               SentenceTransformerEncoder(settings), [str(p) for p in paths], quiet=quiet,
                               ann_threshold=settings.ann_threshold, sentence_vectors=settings.sentence_vectors)
    except KNOWN_ERRORS as err:
        fail(err)
    typer.echo(f"indexed {manifest.articles} articles, {manifest.paragraphs} paragraphs "
               f"({manifest.sentences} sentence vectors) into {settings.index_dir} "
               f"in {manifest.build_seconds:.1f} s")


def writer_parts(settings: Settings):
    """(tokenizer, encoder) for writes, the model's caches bounded first."""
    from index.model.passage_vectors import bound_model_caches

    bound_model_caches()  # before torch loads
    from index.model.embed import SentenceTransformerEncoder
    from index.tokenize import tokenizer_from

    return tokenizer_from(settings), SentenceTransformerEncoder(settings)


def merge_after(settings: Settings, merge: bool) -> None:
    """Run the merges the policy asks for after a write (in this process), unless told not to."""
    if not merge:
        return
    from index.merge import MergeSpaceError, run_merges

    try:
        ran = run_merges(settings.index_dir, ann_threshold=settings.ann_threshold)
    except MergeSpaceError as err:
        err_console.print(f"[yellow]merge not run:[/] {err}")
        return
    if ran:
        typer.echo(f"ran {ran} merge(s)")


Merge = Annotated[bool, typer.Option("--merge/--no-merge", help="Run the merges the merge policy asks for after the write.")]


@app.command()
def add(paths: Annotated[list[Path], typer.Argument(help="Pages folder, .txt page, .jsonl articles or BEIR corpus.")],
        index_dir: IndexDir = None, merge: Merge = True) -> None:
    """Add or replace articles (by id) in an existing index, in place: one new segment and one commit."""
    from index.ingest.sources import read_sources
    from index.writer import apply_update

    settings = load_settings(index_dir)
    try:
        articles = read_sources(paths)
        tokenizer, encoder = writer_parts(settings)
        manifest = apply_update(settings.index_dir, articles, [], tokenizer, encoder,
                                ann_threshold=settings.ann_threshold)
    except KNOWN_ERRORS as err:
        fail(err)
    typer.echo(f"added {len(articles)} articles to {settings.index_dir}: {manifest.articles} articles, "
               f"{manifest.paragraphs} paragraphs in {len(manifest.segments)} segments")
    merge_after(settings, merge)


@app.command()
def delete(ids: Annotated[list[str], typer.Argument(help="Article ids to delete.")],
           index_dir: IndexDir = None, merge: Merge = True) -> None:
    """Delete articles (with all their paragraphs) from an existing index, in place: one commit."""
    from index.writer import apply_update

    from index.tokenize import tokenizer_from

    settings = load_settings(index_dir)
    try:  # nothing to embed: no model
        manifest = apply_update(settings.index_dir, [], ids, tokenizer_from(settings), None,
                                ann_threshold=settings.ann_threshold)
    except UnknownArticleError as err:
        fail(ValueError(f"no article {err.args[0]!r} in {settings.index_dir}: nothing was deleted"))
    except KNOWN_ERRORS as err:
        fail(err)
    typer.echo(f"deleted {len(ids)} articles from {settings.index_dir}: {manifest.articles} articles left")
    merge_after(settings, merge)


@app.command()
def optimize(index_dir: IndexDir = None) -> None:
    """Merge the whole index into one segment, dropping every deleted paragraph."""
    from index.merge import MergeSpaceError, run_merges

    settings = load_settings(index_dir)
    try:
        run_merges(settings.index_dir, ann_threshold=settings.ann_threshold, everything=True)
        from index.commits import read_current

        _, manifest = read_current(settings.index_dir)
    except (MergeSpaceError, *KNOWN_ERRORS) as err:
        fail(err)
    typer.echo(f"{settings.index_dir}: {len(manifest.segments)} segment(s), {manifest.paragraphs} paragraphs")


@app.command()
def upgrade(index_dir: IndexDir = None) -> None:
    """Convert an index from before segments (format 2) in place, keeping its vectors."""
    from index.upgrade import upgrade_index

    settings = load_settings(index_dir)
    try:
        manifest = upgrade_index(settings.index_dir)
    except KNOWN_ERRORS as err:
        fail(err)
    if manifest is None:
        typer.echo(f"{settings.index_dir} is already segmented: nothing to do")
        return
    typer.echo(f"upgraded {settings.index_dir}: {manifest.articles} articles, {manifest.paragraphs} paragraphs")


@app.command()
def search(query: Annotated[str, typer.Argument(help="Query text (Whoosh syntax works in bm25 mode).")],
           mode: Annotated[ModeChoice, typer.Option("--mode", "-m")] = ModeChoice.hybrid,
           k: Annotated[int, typer.Option("-k", min=1, max=100)] = 10,
           offset: Annotated[int, typer.Option(min=0, max=1000)] = 0,
           alpha: Annotated[Optional[float], typer.Option(min=0.0, max=1.0, help="Dense weight in fusion.")] = None,
           as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
           index_dir: IndexDir = None) -> None:
    """Search the index and print the hits."""
    from api.convert import search_response
    from search.engine import open_searcher
    from search.hybrid import with_overrides

    if not query.strip():
        fail(ValueError("the query is blank: give some words to search for"))
    settings = load_settings(index_dir)
    try:
        searcher = open_searcher(settings)
    except KNOWN_ERRORS as err:
        fail(err)
    result = searcher.search(query.strip(), mode.value, k, offset, with_overrides(searcher.defaults, alpha=alpha))
    if as_json:
        typer.echo(search_response(result, offset, k).model_dump_json(indent=2))
        return
    typer.echo(f"{result.total} hits for {query!r} ({mode.value}, {result.took_ms:.1f} ms)")
    for hit in result.hits:
        typer.echo(f"{hit.rank:>3}. [{hit.score:.4f}] {hit.paragraph.title}  ({hit.paragraph.id})")
        typer.echo(f"     {hit.paragraph.text[:120]}")


@app.command()
def check(index_dir: IndexDir = None) -> None:
    """Check every kept commit point, segment and tombstone: docs, Whoosh, postings and FAISS agree."""
    from index.check import check_index, removable

    settings = load_settings(index_dir)
    commit, problems = check_index(settings.index_dir)
    if problems:
        err_console.print(f"[red]{len(problems)} problem(s)[/] in {settings.index_dir} ({commit}):")
        for problem in problems:
            err_console.print(f"  - {problem}")
        err_console.print("rebuild with `zhsearch index PATH --index-dir DIR`")
        raise typer.Exit(1)
    typer.echo(f"ok: {settings.index_dir} ({commit}) is consistent")
    left = removable(settings.index_dir)
    if left:
        typer.echo(f"not listed by any kept commit point (the next write removes them): {', '.join(left)}")


@app.command()
def words(paths: Annotated[list[Path], typer.Argument(help="Sources to read, as for `zhsearch index`.")],
          top: Annotated[int, typer.Option(min=1, max=10000)] = 50,
          min_count: Annotated[int, typer.Option(min=1)] = 3) -> None:
    """Propose user-dictionary words: frequent runs of words that jieba splits (jieba dict format)."""
    from index.ingest.dictionary import propose_words
    from index.ingest.sources import read_sources
    from index.tokenize import tokenizer_from

    settings = load_settings()
    try:
        texts = [text for article in read_sources(paths) for text in (article.title, *article.paragraphs)]
    except KNOWN_ERRORS as err:
        fail(err)
    for word, count in propose_words(tokenizer_from(settings), texts, top, min_count):
        typer.echo(f"{word} {count} n")
    err_console.print(f"append the words you want to {settings.user_dict} (or set ZHSEARCH_USER_DICT), then re-index")


@app.command()
def serve(index_dir: IndexDir = None,
          host: Annotated[Optional[str], typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
          port: Annotated[Optional[int], typer.Option(min=1, max=65535)] = None) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from api.app import create_app

    settings = load_settings(index_dir, host=host, port=port)
    # uvicorn picks uvloop and httptools (dependencies: about 0.6 ms a request less than asyncio
    # and h11); its own access log is off because the app logs every request as one JSON line.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, access_log=False)


@app.command("eval")
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
                                      quiet=quiet, condense=condensed, alpha=alpha, fusion=fusion)
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
        result = evaluate_dataset(dataset, settings, modes, quiet=quiet, condense=condensed)
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


class PoolModes(str, Enum):
    all = "all"
    bm25 = "bm25"
    dense = "dense"
    hybrid = "hybrid"


@app.command("pool")
def pool_command(dataset: Annotated[Path, typer.Argument(help="A BEIR-format dataset folder.")],
                 out: Annotated[Path, typer.Option("--out", help="The pool, one JSON object a line.")],
                 depth: Annotated[int, typer.Option(min=1, max=100, help="Top results of each mode pooled.")] = 10,
                 modes: Annotated[list[PoolModes], typer.Option("--modes", help="Modes pooled (repeat).")] = [PoolModes.all],
                 run: Annotated[Optional[list[Path]], typer.Option(
                     "--run", help="A TREC run file whose top results are pooled too (repeat).")] = None,
                 level: Annotated[Optional[str], typer.Option(
                     help="paragraph or article (default: the qrels' own; paragraphs when nothing is judged yet)")] = None,
                 index_dir: IndexDir = None, quiet: Quiet = False) -> None:
    """Pool every mode's top results that the qrels do not judge yet, for judging (`zhsearch judge`)."""
    from index.model.passage_vectors import bound_model_caches

    bound_model_caches()  # it may index a corpus: before torch loads
    from eval.datasets import DatasetError, load_dataset
    from eval.evaluate import ensure_corpus_index, eval_index_dir
    from eval.pool import pool, read_trec_runs, write_pool
    from search.engine import open_searcher

    if level not in (None, "paragraph", "article"):
        fail(ValueError(f"--level {level!r}: use paragraph or article"))
    chosen = None if PoolModes.all in modes else [m.value for m in modes]
    settings = load_settings(None)
    try:
        data = load_dataset(dataset)
        extra = read_trec_runs(run or [])
        settings = settings.model_copy(update={"index_dir": index_dir or eval_index_dir(settings, data)})
        from index.model.embed import SentenceTransformerEncoder

        encoder = SentenceTransformerEncoder(settings)
        ensure_corpus_index(data, settings, encoder, quiet)
        items = pool(data, open_searcher(settings, encoder), depth, chosen, extra, level)
        write_pool(items, out)
    except (DatasetError, *KNOWN_ERRORS) as err:
        fail(err)
    queries = len({item.query_id for item in items})
    typer.echo(f"{len(items)} unjudged results of {queries} queries pooled into {out}")


@app.command("judge")
def judge_command(dataset: Annotated[Path, typer.Argument(help="A BEIR-format dataset folder: grades go to its qrels.")],
                  pool_file: Annotated[Optional[Path], typer.Option(
                      "--pool", help="A pool from `zhsearch pool` (default: pool every mode's top 10 now).")] = None,
                  host: Annotated[str, typer.Option(help="Address to serve the page on (loopback: no login).")] = "127.0.0.1",
                  port: Annotated[int, typer.Option(min=1, max=65535)] = 8001,
                  index_dir: IndexDir = None, quiet: Quiet = False) -> None:
    """Serve a page that shows one pooled result at a time and appends each grade (0/1/2 by key) to the qrels."""
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
            from index.model.embed import SentenceTransformerEncoder
            from eval.evaluate import ensure_corpus_index, eval_index_dir
            from eval.pool import pool
            from search.engine import open_searcher

            settings = load_settings(None)
            settings = settings.model_copy(update={"index_dir": index_dir or eval_index_dir(settings, data)})
            encoder = SentenceTransformerEncoder(settings)
            ensure_corpus_index(data, settings, encoder, quiet)
            items = pool(data, open_searcher(settings, encoder))
        judging = Judging.of_dataset(dataset, items)
    except (DatasetError, JudgeBusyError, *KNOWN_ERRORS) as err:
        fail(err)
    state = judging.state()
    typer.echo(f"judging {state['dataset']}: {state['total'] - state['graded']} of {state['total']} pooled results "
               f"to grade; open http://{host}:{port}/ (grades go to {judging.qrels_path})")
    try:
        uvicorn.run(create_judge_app(judging), host=host, port=port, access_log=False, log_level="warning")
    finally:
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


if __name__ == "__main__":
    app()
