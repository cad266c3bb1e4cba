"""`zhsearch words`: vocabulary to vet from a corpus (user-dictionary words, or synonym groups)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import KNOWN_ERRORS, err_console, fail, load_settings


def register(app: typer.Typer) -> None:
    app.command("words")(words)


def words(paths: Annotated[list[Path], typer.Argument(help="Sources to read, as for `zhsearch index`.")],
          top: Annotated[int, typer.Option(min=1, max=10000)] = 50,
          min_count: Annotated[int, typer.Option(min=1)] = 3,
          synonyms: Annotated[bool, typer.Option(
              "--synonyms", help="Propose synonym groups instead: frequent words the model places close together.")] = False,
          closeness: Annotated[float, typer.Option(min=0.3, max=1.0, help="With --synonyms: least cosine.")] = 0.92) -> None:
    """Propose user-dictionary words (frequent runs of words jieba splits), or with --synonyms synonym groups to vet."""
    from index.ingest.dictionary import propose_words
    from index.ingest.sources import read_sources
    from index.tokenize import tokenizer_from

    settings = load_settings()
    try:
        texts = [text for article in read_sources(paths) for text in (article.title, *article.paragraphs)]
    except KNOWN_ERRORS as err:
        fail(err)
    if synonyms:
        from index.model.runtime import load_encoder
        from search.synonyms.candidates import propose_synonyms

        found = propose_synonyms(tokenizer_from(settings), load_encoder(settings), texts, min_count,
                                 threshold=closeness)[:top]
        for cosine, members in found:
            typer.echo(f"{', '.join(w for w, _ in members)}  # cosine >= {cosine:.3f}; seen "
                       f"{', '.join(str(n) for _, n in members)} times")
        err_console.print("these are candidates, not synonyms: keep the lines that name one thing, in a file "
                          "named by ZHSEARCH_SYNONYMS (no re-index needed)")
        return
    for word, count in propose_words(tokenizer_from(settings), texts, top, min_count):
        typer.echo(f"{word} {count} n")
    err_console.print(f"append the words you want to {settings.user_dict} (or set ZHSEARCH_USER_DICT), then re-index")
