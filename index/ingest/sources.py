"""Sources -> Articles: newspaper pages (.txt), JSONL articles, BEIR corpora."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from index.models import Article
from index.ingest.pages import parse_page

BEIR_CORPUS = "corpus.jsonl"
KNOWN_FIELDS = {"id", "_id", "title", "text", "subtitle", "byline", "date", "source"}


class IngestError(ValueError):
    """A source cannot be read as articles; the message names the file, the line and the fix."""


def split_lines(text: str) -> tuple[str, ...]:
    """Non-blank lines of a text: the paragraphs of a JSONL or BEIR document."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def read_records(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line of a JSONL file."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise IngestError(f"{path}, line {number}: not valid JSON ({err.msg})") from err
            if not isinstance(record, dict):
                raise IngestError(f"{path}, line {number}: expected a JSON object per line")
            yield number, record


def _text_field(record: dict, key: str, where: str) -> str:
    value = record.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise IngestError(f"{where}: field {key!r} must be a string")
    return value


def article_from_record(record: dict, where: str, source: str) -> Article:
    """An Article from a JSONL object ({"id"|"_id", "title", "text", ...}); extra fields become metadata."""
    raw_id = record.get("id", record.get("_id"))
    if raw_id is None or str(raw_id).strip() == "":
        raise IngestError(f'{where}: missing "id" (or "_id"): every article needs a stable id')
    text = _text_field(record, "text", where)
    extra = {k: str(v) for k, v in record.items() if k not in KNOWN_FIELDS and v is not None}
    return Article(
        id=str(raw_id).strip(),
        title=_text_field(record, "title", where).strip(),
        paragraphs=split_lines(text),
        subtitle=_text_field(record, "subtitle", where).strip(),
        byline=_text_field(record, "byline", where).strip(),
        source=_text_field(record, "source", where) or source,
        date=_text_field(record, "date", where) or None,
        metadata=extra,
    )


def read_jsonl(path: Path) -> list[Article]:
    """Articles from a JSONL file, one object a line (BEIR corpora use the same reader)."""
    return [article_from_record(rec, f"{path}, line {n}", path.name) for n, rec in read_records(path)]


def read_page(path: Path) -> list[Article]:
    """Articles from one newspaper page text file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise IngestError(f"{path}: not UTF-8 text; convert it with `iconv -t UTF-8`") from err
    return parse_page(text, path.name)


def _read_folder(folder: Path) -> list[Article]:
    if (folder / BEIR_CORPUS).is_file():
        return read_jsonl(folder / BEIR_CORPUS)
    files = sorted(p for p in folder.iterdir() if p.suffix in (".txt", ".jsonl") and p.is_file())
    if not files:
        raise IngestError(f"{folder}: no .txt pages, .jsonl files or {BEIR_CORPUS} in it")
    return [article for path in files for article in read_source(path)]


def read_source(path: Path) -> list[Article]:
    """Articles from a pages folder, a .txt page, a JSONL file or a BEIR corpus (folder or file)."""
    if path.is_dir():
        return _read_folder(path)
    if not path.exists():
        raise IngestError(f"{path}: no such file or folder")
    if path.suffix == ".jsonl":
        return read_jsonl(path)
    if path.suffix == ".txt":
        return read_page(path)
    raise IngestError(f"{path}: unknown kind of source; give a folder, a .txt page or a .jsonl file")


def read_sources(paths: list[Path]) -> list[Article]:
    """Articles from every source in order; a later article with the same id replaces the earlier."""
    by_id: dict[str, Article] = {}
    for path in paths:
        for article in read_source(path):
            by_id.pop(article.id, None)
            by_id[article.id] = article
    return list(by_id.values())
