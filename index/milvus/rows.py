"""Paragraphs, sentences, articles and terms as Milvus rows, and back: pure functions, no client."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any, Sequence

import numpy as np

from index.ingest.minhash import band_keys
from index.milvus.schema import MAX_ID, MAX_KEY, MAX_SOURCE, MAX_TERMS, MAX_TEXT, PLACEHOLDER
from index.models import Article, Paragraph

PARAGRAPH_FIELDS = ["id", "article_id", "position", "title", "text", "source", "date", "story"]  # what a hit reads
SCORING_FIELDS = ["bm25", "title_len", "text_len", "avg_title", "avg_text"]  # what rescoring a BM25 hit reads


class RowTooLargeError(ValueError):
    """A value beyond what a Milvus field holds (the message names the row and the limit)."""


def date_length(date: str | None) -> int:
    """What `date_len` holds: the date's length when it starts with a year's digit, else 0 (no usable date)."""
    return len(date) if date and date[:1].isdigit() else 0


def term_key(fieldname: str, term: str) -> str:
    """The vocabulary's key of a (field, term): `field:term` (field names hold no colon); a term too long for a key
    (a URL, a hash the tokenizer keeps whole) is keyed by its SHA-1: `field:#sha1:<hex>`."""
    key = f"{fieldname}:{term}"
    if len(key.encode("utf-8")) <= MAX_KEY:
        return key
    return f"{fieldname}:#sha1:{hashlib.sha1(term.encode('utf-8')).hexdigest()}"


def checked_key(key: str) -> str:
    return _fits(key, MAX_KEY, f"key {key[:40]!r}…")


def _fits(value: str, limit: int, what: str) -> str:
    """`value`, or RowTooLargeError naming it when its UTF-8 is longer than a Milvus field holds."""
    if len(value.encode("utf-8")) > limit:
        raise RowTooLargeError(f"{what} is {len(value.encode('utf-8'))} bytes, a Milvus field holds {limit}: "
                               "shorten or split it")
    return value


def filter_fields(article_id: str, source: str, date: str | None) -> dict[str, object]:
    return {"article_id": _fits(article_id, MAX_ID, f"article id {article_id[:40]!r}…"),
            "source": _fits(source, MAX_SOURCE, f"source name {source[:40]!r}…"),
            "date": date or "", "date_len": date_length(date)}


def paragraph_row(paragraph: Paragraph, story: str, bm25: dict[int, float], lengths: Sequence[int],
                  averages: dict[str, float], vector: np.ndarray) -> dict[str, object]:
    """A paragraph's row; `bm25` maps its sparse dimensions to their BM25F term-frequency parts, made with the
    average field lengths `averages`; `lengths` are its fields' exact token counts (FIELDS order)."""
    terms = sorted(bm25)
    if len(terms) > MAX_TERMS:
        raise RowTooLargeError(f"paragraph {paragraph.id} has {len(terms)} distinct terms, Milvus arrays hold "
                               f"{MAX_TERMS}: split it before indexing")
    return {"id": _fits(paragraph.id, MAX_ID, f"paragraph id {paragraph.id[:40]!r}…"),
            **filter_fields(paragraph.article_id, paragraph.source, paragraph.date),
            "position": paragraph.position, "title": _fits(paragraph.title, MAX_TEXT, f"title of {paragraph.id}"),
            "text": _fits(paragraph.text, MAX_TEXT, f"paragraph {paragraph.id}"), "story": _fits(story, MAX_ID, "story key"),
            "title_len": int(lengths[0]), "text_len": int(lengths[1]),
            "avg_title": float(averages["title"]), "avg_text": float(averages["text"]),
            "terms": terms, "bm25": bm25, "vector": vector.astype(np.float32).tolist()}


def sentence_rows(paragraph: Paragraph, vectors: np.ndarray) -> list[dict[str, object]]:
    """The sentence vectors of one paragraph as rows `<paragraph id>#<n>`."""
    fields = filter_fields(paragraph.article_id, paragraph.source, paragraph.date)
    return [{"id": f"{paragraph.id}#{n}", "paragraph_id": paragraph.id, **fields, "vector": v.astype(np.float32).tolist()}
            for n, v in enumerate(vectors)]


def article_row(article: Article, story: str, signature: np.ndarray) -> dict[str, object]:
    """An article's row: its fields but the paragraph texts (those are its paragraphs' rows), its story, and its
    MinHash signature (uint32, all 0: too short to compare) with its band keys (none for a short one)."""
    fields = asdict(article)
    del fields["paragraphs"]
    keys = band_keys(signature[None, :])[0] if signature.any() else np.zeros(0, dtype=np.uint64)
    return {"id": _fits(article.id, MAX_ID, f"article id {article.id[:40]!r}…"), "story": _fits(story, MAX_ID, "story key"),
            "doc": _fits(json.dumps(fields, ensure_ascii=False), MAX_TEXT, f"article {article.id}'s fields"),
            "bands": keys.view(np.int64).tolist(), "signature": signature.astype(np.int64).tolist(),
            "placeholder": PLACEHOLDER}


def term_row(key: str, term_id: int, df: int) -> dict[str, object]:
    return {"id": key, "term_id": term_id, "df": df, "placeholder": PLACEHOLDER}


def paragraph_of(entity: dict[str, Any]) -> Paragraph:
    """The Paragraph a row (PARAGRAPH_FIELDS) holds."""
    return Paragraph(entity["id"], entity["article_id"], int(entity["position"]), entity["text"], entity["title"],
                     entity["source"], entity["date"] or None)


def article_of(entity: dict[str, Any], paragraphs: Sequence[Paragraph]) -> Article:
    """The Article of an article row, its paragraph texts those of its live paragraphs (blank ones were never
    indexed)."""
    fields = json.loads(entity["doc"])
    fields["captions"] = tuple(fields.get("captions", ()))
    return Article(paragraphs=tuple(p.text for p in paragraphs), **fields)


def check_sizes(articles: Sequence[Article], paragraphs: Sequence[Paragraph]) -> None:
    """RowTooLargeError naming the first id, title, text or source longer than a Milvus field holds (checked before a
    write is committed, so that one article cannot fail the others of its group commit)."""
    for article in articles:
        _fits(article.id, MAX_ID - 16, f"article id {article.id[:40]!r}…")  # room for ".p000" and a story suffix
        _fits(json.dumps({**asdict(article), "paragraphs": ()}, ensure_ascii=False), MAX_TEXT, f"article {article.id}'s fields")
    for paragraph in paragraphs:
        _fits(paragraph.text, MAX_TEXT, f"paragraph {paragraph.id}")
        _fits(paragraph.title, MAX_TEXT, f"title of {paragraph.id}")
        _fits(paragraph.source, MAX_SOURCE, f"source name {paragraph.source[:40]!r}…")
