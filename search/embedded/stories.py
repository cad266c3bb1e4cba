"""Which live articles are copies of one story (reprints), as the snapshot's segments marked them at ingest.

Only copies carry a mark (index/store/minhash_store.py: article id -> story, the id of the story's
first article); an unmarked article's story is its own id. Both lookups read the segments' marks
in place, at a cost of one dictionary probe per segment: nothing is gathered per commit point, so
a refresh after a write costs nothing here at any index size.
"""

from __future__ import annotations

from index.snapshot import Snapshot


def story_in(snapshot: Snapshot, article_id: str) -> str:
    """The story of a live article (its own id when it is nobody's copy, or when it is not live)."""
    view = snapshot.article_view(article_id)
    return article_id if view is None else view.segment.duplicates.story(article_id)


def copies_in(snapshot: Snapshot, article_id: str) -> list[str]:
    """The other live articles of this article's story, sorted: its marked copies in every segment, and the
    story's first article while it lives and is still of that story."""
    story = story_in(snapshot, article_id)
    found = {aid for view in snapshot.views for aid in view.segment.duplicates.marked_as(story) if view.has_article(aid)}
    first = snapshot.article_view(story)
    if first is not None and first.segment.duplicates.story(story) == story:
        found.add(story)
    found.discard(article_id)
    return sorted(found)
