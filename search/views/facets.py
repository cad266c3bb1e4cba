"""Facets: how many results of a ranking fall on each source page and in each month."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence

FACETS = ("source", "month")
UNDATED = "undated"  # the month of a result without a full date


def facet_names(text: str | None) -> tuple[str, ...]:
    """The facets a comma-separated list asks for, in order, once each; ValueError naming the choices for another."""
    names = tuple(dict.fromkeys(name.strip() for name in (text or "").split(",") if name.strip()))
    unknown = [name for name in names if name not in FACETS]
    if unknown:
        raise ValueError(f"unknown facet {unknown[0]!r}: ask for {', '.join(FACETS)}")
    return names


def month_of(date: str | None) -> str:
    """"2024-12" for "2024-12-10" or "2024-12"; UNDATED for no date or one without a year ("--12-18")."""
    if date and len(date) >= 7 and date[:4].isdigit() and date[4] == "-":
        return date[:7]
    return UNDATED


def counts(values: Iterable[str]) -> list[tuple[str, int]]:
    """(value, count) pairs, the most frequent first, ties by value."""
    return sorted(Counter(values).items(), key=lambda pair: (-pair[1], pair[0]))


def facet_counts(ids: Sequence[str], fields: Sequence[str], source_of: Callable[[str], str],
                 date_of: Callable[[str], str | None]) -> dict[str, list[tuple[str, int]]]:
    """For each requested field, the counts of its values over `ids` (each result counted once)."""
    out: dict[str, list[tuple[str, int]]] = {}
    for field in fields:
        if field == "source":
            out[field] = counts(source_of(i) or "" for i in ids)
        elif field == "month":
            out[field] = counts(month_of(date_of(i)) for i in ids)
        else:
            raise ValueError(f"unknown facet {field!r}: ask for {', '.join(FACETS)}")
    return out
