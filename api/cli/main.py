"""The zhsearch command line: index, add, delete, optimize, upgrade, search, check, serve (here), eval, pool,
judge (api/cli/evaluation.py), export (api/cli/milvus.py) and words (api/cli/words.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from api.cli.common import (KNOWN_ERRORS, GroupChoice, IndexDir, ModeChoice, Quiet, SortChoice, err_console, fail,
                            load_settings)
from api.cli.evaluation import register
from api.cli.words import register as register_words
from api.cli.milvus import export, milvus_add, milvus_delete, register as register_milvus
from index.settings import Settings
from index.writer import UnknownArticleError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Full-text and semantic search for Chinese news articles.")


@app.command()
def index(paths: Annotated[list[Path], typer.Argument(help="Pages folder, .txt page, .jsonl articles or BEIR corpus.")],
          index_dir: IndexDir = None, quiet: Quiet = False) -> None:
    """Index articles anew: one new segment that replaces the whole index once complete (the old one serves until then).
    With ZHSEARCH_BACKEND=milvus the index is then copied into the Milvus corpus, replacing it."""
    from index.model.passage_vectors import bound_model_caches

    bound_model_caches()  # before torch loads
    from index.builder import build_index
    from index.ingest.sources import read_sources
    from index.model.runtime import load_encoder
    from index.tokenize import tokenizer_from

    settings = load_settings(index_dir)
    try:
        articles = read_sources(paths)
        manifest = build_index(settings.index_dir, articles, tokenizer_from(settings),
                               load_encoder(settings), [str(p) for p in paths], quiet=quiet,
                               ann_threshold=settings.ann_threshold, sentence_vectors=settings.sentence_vectors)
    except KNOWN_ERRORS as err:
        fail(err)
    typer.echo(f"indexed {manifest.articles} articles, {manifest.paragraphs} paragraphs "
               f"({manifest.sentences} sentence vectors) into {settings.index_dir} "
               f"in {manifest.build_seconds:.1f} s")
    if settings.backend == "milvus":  # the build is staged in the index folder, then copied in whole
        export(to="", collection=None, replace=True, index_dir=settings.index_dir, quiet=quiet)


def writer_parts(settings: Settings):
    """(tokenizer, encoder) for writes, the model's caches bounded first."""
    from index.model.passage_vectors import bound_model_caches

    bound_model_caches()  # before torch loads
    from index.model.runtime import load_encoder
    from index.tokenize import tokenizer_from

    return tokenizer_from(settings), load_encoder(settings)


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
    if settings.backend == "milvus":
        return milvus_add(settings, paths)
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
    if settings.backend == "milvus":
        return milvus_delete(settings, ids)
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
           group: Annotated[GroupChoice, typer.Option(help="article: one result per article.")] = GroupChoice.paragraph,
           sort: Annotated[SortChoice, typer.Option(help="date: newest first.")] = SortChoice.relevance,
           facets: Annotated[Optional[str], typer.Option(help="Comma-separated: source, month.")] = None,
           dedup: Annotated[bool, typer.Option(help="Copies of one story (reprints) once; --no-dedup: all.")] = True,
           as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
           index_dir: IndexDir = None) -> None:
    """Search the index and print the hits."""
    from api.convert import search_response
    from search.engine import open_searcher
    from search.fusion import with_overrides
    from search.views.facets import facet_names
    from search.views.view import View

    if not query.strip():
        fail(ValueError("the query is blank: give some words to search for"))
    try:
        names = facet_names(facets)
    except ValueError as err:
        fail(err)
    settings = load_settings(index_dir)
    try:
        searcher = open_searcher(settings)
    except KNOWN_ERRORS as err:
        fail(err)
    view = View(group.value, sort.value, names, dedup)
    result = searcher.search(query.strip(), mode.value, k, offset, with_overrides(searcher.defaults, alpha=alpha),
                             view=view)
    if as_json:
        typer.echo(search_response(result, offset, k).model_dump_json(indent=2))
        return
    unit = "articles" if view.group == "article" else "hits"
    drawn = f"; from {result.pool.what}" if result.pool else ""
    counted = f"{result.total}" if result.total_exact else f"at most {result.total}"
    typer.echo(f"{counted} {unit} for {query!r} ({mode.value}, {result.took_ms:.1f} ms{drawn})")
    for found in result.articles:
        first = found.hits[0].paragraph
        typer.echo(f"{found.rank:>3}. [{found.score:.4f}] {first.title}  ({found.article_id}, {first.date or 'undated'})"
                   + similar_note(found.similar))
        for hit in found.hits:
            typer.echo(f"     · {hit.paragraph.text[:110]}")
    for hit in result.hits:
        dated = f", {hit.paragraph.date}" if view.sort == "date" else ""
        typer.echo(f"{hit.rank:>3}. [{hit.score:.4f}] {hit.paragraph.title}  ({hit.paragraph.id}{dated})"
                   + similar_note(hit.similar))
        typer.echo(f"     {hit.paragraph.text[:120]}")
    for name, values in result.facets.items():
        typer.echo(f"{name}: " + ", ".join(f"{value} {count}" for value, count in values))


def similar_note(similar: list[str]) -> str:
    """"  + 2 similar: b, c" for a result with copies, else ""."""
    if not similar:
        return ""
    return f"  + {len(similar)} similar: {', '.join(similar[:5])}" + (" …" if len(similar) > 5 else "")


@app.command()
def related(article_id: Annotated[str, typer.Argument(help="An article id, as in search results.")],
            k: Annotated[int, typer.Option("-k", min=1, max=20)] = 5, index_dir: IndexDir = None) -> None:
    """The articles closest to one article (its paragraphs' vectors and its title's words)."""
    from search.engine import open_searcher

    settings = load_settings(index_dir)
    try:
        searcher = open_searcher(settings)
        found = searcher.related(article_id, k)
    except UnknownArticleError:
        fail(ValueError(f"no article {article_id!r} in {settings.index_dir}: ids are as `zhsearch search` prints them"))
    except KNOWN_ERRORS as err:
        fail(err)
    for rank, (other, score) in enumerate(found, start=1):
        article = searcher.corpus.article(other)
        typer.echo(f"{rank:>3}. [{score:.4f}] {article.title if article else ''}  ({other})")


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
def serve(index_dir: IndexDir = None,
          host: Annotated[Optional[str], typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
          port: Annotated[Optional[int], typer.Option(min=0, max=65535,
                                                      help="Port (0: a free one, named on the start-up line).")] = None
          ) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    from index.model.heap import SERVICE_HEAPS, limit_heaps
    from search.serving.blas import one_blas_thread

    limit_heaps(SERVICE_HEAPS)  # before the model's and the requests' threads start
    one_blas_thread()
    import uvicorn

    from api.app import create_app

    settings = load_settings(index_dir, host=host, port=port)
    # uvicorn picks uvloop and httptools (dependencies: about 0.6 ms a request less than asyncio
    # and h11); its own access log is off because the app logs every request as one JSON line.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, access_log=False)


register(app)
register_milvus(app)
register_words(app)

if __name__ == "__main__":
    app()
