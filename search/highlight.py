"""Highlights: where a paragraph contains a query's terms, as character offsets into its text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from index.tokenize import Token


@dataclass(frozen=True)
class Span:
    """`text[start:end]` matched a query term (offsets count Unicode characters)."""

    start: int
    end: int
    text: str


def merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching (start, end) spans merged, in order."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, terms: set[str], tokens: Sequence[Token]) -> list[Span]:
    """The spans of `text` whose tokens are among `terms`, merged.

    `tokens` are `text`'s tokens from the tokenizer that indexed it, so offsets are
    right for Chinese (and for traditional text matched by a simplified query).
    """
    if not terms:
        return []
    spans = [(tok.start, tok.end) for tok in tokens if tok.term in terms]
    return [Span(start, end, text[start:end]) for start, end in merge(spans)]
