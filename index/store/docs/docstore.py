"""Articles and paragraphs of a segment as JSONL files, one record a line, `id` first. `DocStore` writes them and
reads them whole (an upgrade); an open segment reads a record when a search needs it (article_map.py,
paragraph_rows.py)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

import orjson

from index.models import Article, Paragraph
from index.store.docs.article_map import article_of_record

ARTICLES_FILE = "articles.jsonl"
PARAGRAPHS_FILE = "paragraphs.jsonl"


def _write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    """The rows of a JSONL file, parsed by orjson (a 100k segment's two files in 0.44 s against 0.84 s with json)."""
    with open(path, "rb") as handle:
        return [orjson.loads(line) for line in handle if line.strip()]


@dataclass
class DocStore:
    """Every article and paragraph of one segment, by id.

    Invariant: `paragraph_ids[article_id]` lists that article's paragraph ids in reading order.
    """

    articles: dict[str, Article]
    paragraphs: dict[str, Paragraph]
    paragraph_ids: dict[str, list[str]]

    @classmethod
    def build(cls, articles: list[Article], paragraphs: list[Paragraph]) -> "DocStore":
        by_article: dict[str, list[str]] = {a.id: [] for a in articles}
        for paragraph in paragraphs:
            by_article[paragraph.article_id].append(paragraph.id)
        return cls({a.id: a for a in articles}, {p.id: p for p in paragraphs}, by_article)

    def save(self, folder: Path) -> None:
        """Write `articles.jsonl` and `paragraphs.jsonl` into `folder`."""
        _write_jsonl(folder / ARTICLES_FILE, (asdict(a) for a in self.articles.values()))
        _write_jsonl(folder / PARAGRAPHS_FILE, (asdict(p) for p in self.paragraphs.values()))

    @classmethod
    def open(cls, folder: Path) -> "DocStore":
        """Read the files written by `save`, every record parsed (a segment reads its own when asked for:
        article_map.py, paragraph_rows.py)."""
        articles = [article_of_record(row) for row in _read_jsonl(folder / ARTICLES_FILE)]
        return cls.build(articles, [Paragraph(**row) for row in _read_jsonl(folder / PARAGRAPHS_FILE)])
