"""One result per story: copies of an article (reprints marked at ingest) hidden behind the first one shown.

Elasticsearch's `collapse` on a story field: walking a ranking in order, the first article of each
story keeps its paragraphs; the paragraphs of the story's other articles are left out, and each
shown result says how many copies it stands for (`Corpus.copies`). `dedup=false` shows them all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from search.fusion import Ranked


def hide_copies(ranked: Sequence[tuple[str, float]], article_of: Callable[[str], str],
                story_of: Callable[[str], str]) -> tuple[Ranked, int]:
    """`ranked` without the paragraphs of articles whose story an article ranked earlier shows; and how many
    paragraphs were left out. Invariant: the order of what is kept is unchanged."""
    shown_by: dict[str, str] = {}  # story -> the article that shows it
    story: dict[str, str] = {}  # article -> its story, asked once per article
    kept: Ranked = []
    for pid, score in ranked:
        aid = article_of(pid)
        if aid not in story:
            story[aid] = story_of(aid)
        if shown_by.setdefault(story[aid], aid) == aid:
            kept.append((pid, score))
    return kept, len(ranked) - len(kept)
