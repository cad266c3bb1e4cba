"""Which live articles are copies of one story (reprints), as the snapshot's segments marked them at ingest.

Only copies carry a mark (index/store/minhash_store.py: article id -> story, the id of the story's
first article); an unmarked article's story is its own id. Both lookups read the segments' marks
in place, asking only the segments that mark something (`marking`): nothing is gathered per commit point,
so a refresh after a write costs nothing here at any index size.
"""

from __future__ import annotations

from collections.abc import Sequence

from index.snapshot import Snapshot, SegmentView


def marking(snapshot: Snapshot) -> list[SegmentView]:
    """The snapshot's segments that mark at least one article as a copy (the only ones `story_in` asks)."""
    return [view for view in snapshot.views if view.segment.duplicates.stories]


def story_in(marking: Sequence[SegmentView], article_id: str) -> str:
    """The story of a live article (its own id when it is nobody's copy, or when it is not live).

    Exact without finding the article's segment: a live article lives in one segment, so a mark from a segment
    where it lives is that segment's; marked nowhere it lives, it is its own story. A probe per marking segment
    (the hiding of copies asks this for every match of a bm25 query: up to 10,000)."""
    for view in marking:
        story = view.segment.duplicates.stories.get(article_id)
        if story is not None and view.has_article(article_id):
            return story
    return article_id


def copies_in(snapshot: Snapshot, marking: Sequence[SegmentView], article_id: str) -> list[str]:
    """The other live articles of this article's story, sorted: its marked copies in every segment, and the
    story's first article while it lives and is still of that story."""
    story = story_in(marking, article_id)
    found = {aid for view in snapshot.views for aid in view.segment.duplicates.marked_as(story) if view.has_article(aid)}
    first = snapshot.article_view(story)
    if first is not None and first.segment.duplicates.story(story) == story:
        found.add(story)
    found.discard(article_id)
    return sorted(found)
