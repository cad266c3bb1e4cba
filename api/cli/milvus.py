"""The Milvus side of zhsearch's commands: export (an embedded index copied into a Milvus corpus), and add and
delete with ZHSEARCH_BACKEND=milvus."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from api.cli.common import KNOWN_ERRORS, IndexDir, Quiet, fail, load_settings


def register(app: typer.Typer) -> None:
    app.command("export")(export)


def export(to: Annotated[str, typer.Option("--to", help="Milvus: a file path ending in .db (Milvus Lite) or "
                                                        "http://host:19530 (default: $ZHSEARCH_MILVUS_URI).")] = "",
           collection: Annotated[Optional[str], typer.Option(
               help="Name of the corpus in Milvus (default: $ZHSEARCH_MILVUS_COLLECTION or zhsearch).")] = None,
           replace: Annotated[bool, typer.Option("--replace", help="Drop a corpus of that name first.")] = False,
           index_dir: IndexDir = None, quiet: Quiet = False) -> None:
    """Copy an index (its current commit point) into Milvus without embedding anything again; then serve it with
    ZHSEARCH_BACKEND=milvus."""
    from index.milvus.connection import connect
    from index.milvus.export import CorpusExistsError, export_index

    settings = load_settings(index_dir, milvus_uri=to or None, milvus_collection=collection)
    try:
        conn = connect(settings)
        try:
            done = export_index(settings.index_dir, conn, settings.ann_threshold, replace, quiet)
        finally:
            conn.close()
    except (CorpusExistsError, *KNOWN_ERRORS) as err:
        fail(err)
    typer.echo(f"exported {done.articles} articles, {done.paragraphs} paragraphs, {done.sentences} sentence vectors "
               f"and {done.terms} terms from {settings.index_dir} to {done.location}")
    if done.without_indexes:
        typer.echo(f"this Milvus refused scalar indexes on {', '.join(done.without_indexes)}: filters on them scan "
                   "(Milvus Lite indexes no arrays; a server does)")


def milvus_update(settings, articles: list, deletes: list[str], encoder=None) -> str:
    """`zhsearch add` / `delete` against the Milvus corpus the settings name: one commit (index/milvus/writer.py);
    returns what to print. Raises UnknownArticleError for a delete of an unknown article (nothing changed)."""
    from index.milvus.connection import connect
    from index.milvus.record import read_meta
    from index.milvus.writer import MilvusWriter
    from index.tokenize import tokenizer_from
    from index.update import PreparedUpdate, prepare

    conn = connect(settings)
    try:
        record, _ = read_meta(conn)  # no corpus: fail before the model loads
        if articles and encoder is None:
            from index.model.passage_vectors import bound_model_caches
            from index.model.runtime import load_encoder

            bound_model_caches()
            encoder = load_encoder(settings)
        update = prepare(articles, deletes, encoder, record.sentence_vectors) if articles \
            else PreparedUpdate([], list(deletes), record.sentence_vectors)
        config = encoder.config() if encoder is not None else record.model  # deletes embed nothing: no model
        [outcome] = MilvusWriter(conn, tokenizer_from(settings), config).commit([update])
        if outcome is not None:
            raise outcome
        _, stats = read_meta(conn)
    finally:
        conn.close()
    return f"{stats.articles} articles, {stats.paragraphs} paragraphs in {conn.location}"


def milvus_add(settings, paths: list[Path]) -> None:
    """`zhsearch add` against the Milvus corpus: prints the outcome or fails with the reason."""
    from index.ingest.sources import read_sources

    try:
        typer.echo(f"added {len(paths)} source(s): " + milvus_update(settings, read_sources(paths), []))
    except KNOWN_ERRORS as err:
        fail(err)


def milvus_delete(settings, ids: list[str]) -> None:
    """`zhsearch delete` against the Milvus corpus: an unknown id deletes nothing and fails."""
    from index.models import UnknownArticleError

    try:
        typer.echo(f"deleted {len(ids)} articles: " + milvus_update(settings, [], ids))
    except UnknownArticleError as err:
        fail(ValueError(f"no article {err.args[0]!r}: nothing was deleted"))
    except KNOWN_ERRORS as err:
        fail(err)
