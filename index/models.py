"""Article and Paragraph: the one vocabulary every module shares."""

from __future__ import annotations

from dataclasses import dataclass, field


class UnknownArticleError(KeyError):
    """No live article has this id (a delete, related stories)."""


@dataclass(frozen=True)
class Article:
    """One article: a headline and the body paragraphs under it.

    Invariant: `id` is stable across rebuilds of the same source, and
    `paragraphs` holds body text only (no captions, datelines or bylines).
    """

    id: str
    title: str
    paragraphs: tuple[str, ...]
    subtitle: str = ""
    byline: str = ""
    source: str = ""
    date: str | None = None
    captions: tuple[str, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Paragraph:
    """One indexed unit of text.

    Invariant: `id` is `f"{article_id}.p{position:03d}"` so that it is stable
    across rebuilds and sorts in reading order; `position` counts from 0.
    """

    id: str
    article_id: str
    position: int
    text: str
    title: str
    source: str = ""
    date: str | None = None


def paragraph_id(article_id: str, position: int) -> str:
    """The stable id of the paragraph at `position` of article `article_id`."""
    return f"{article_id}.p{position:03d}"


def article_id_of(paragraph_id_: str) -> str:
    """The article id a paragraph id belongs to (inverse of `paragraph_id`)."""
    return paragraph_id_.rsplit(".p", 1)[0]
