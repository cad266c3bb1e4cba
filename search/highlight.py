"""Highlights: where a paragraph contains a query's terms, as character offsets into its text.

Terms are found by substring search in the paragraph's normalised text (the tokenizer's
width, case and script folding, which keeps length, so offsets are offsets into the text):
no per-hit tokenising, which cost about 1 ms a paragraph. Terms made of Latin letters or
digits match whole words only ("ai" is not highlighted inside "email").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Span:
    """`text[start:end]` matched a query term (offsets count Unicode characters)."""

    start: int
    end: int
    text: str


def merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching (start, end) spans merged, in order."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _is_ascii_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def occurrences(folded: str, term: str) -> list[tuple[int, int]]:
    """Every (start, end) of `term` in `folded`; a Latin or digit term only where it is a whole word."""
    found = []
    whole_word = any(_is_ascii_word_char(ch) for ch in term)
    start = folded.find(term)
    while start >= 0:
        end = start + len(term)
        if not whole_word or not (
            (start > 0 and _is_ascii_word_char(folded[start - 1]))
            or (end < len(folded) and _is_ascii_word_char(folded[end]))
        ):
            found.append((start, end))
        start = folded.find(term, start + 1)
    return found


def highlight(text: str, terms: set[str], folded: str) -> list[Span]:
    """The spans of `text` holding any of `terms`, merged.

    `folded` is `text` normalised as the tokenizer normalises (same length); `terms` are
    the query's normalised terms, so a simplified query marks traditional text and back.
    """
    if not terms or len(folded) != len(text):
        return []
    spans = [span for term in terms if term for span in occurrences(folded, term)]
    return [Span(start, end, text[start:end]) for start, end in merge(spans)]
