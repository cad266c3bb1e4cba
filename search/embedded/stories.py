"""Which live articles are copies of one story (reprints), as one snapshot's segments marked them at ingest.

Only copies carry a mark (index/store/minhash_store.py: article id -> story, the id of the story's
first article); an unmarked article's story is its own id. One pass over the marks of the live
articles gives each story its members: the marked copies, and the first article while it lives.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.snapshot import Snapshot


@dataclass(frozen=True)
class Stories:
    """Live copies by story. Invariant: `story_of` and `members` hold only stories of two live articles or more."""

    story_of: dict[str, str]  # live article id -> its story, for articles in a story of 2+ live members
    members: dict[str, tuple[str, ...]]  # story -> its live articles, sorted

    def story(self, article_id: str) -> str:
        return self.story_of.get(article_id, article_id)

    def copies(self, article_id: str) -> list[str]:
        """The other live articles of this article's story, sorted."""
        return [aid for aid in self.members.get(self.story(article_id), ()) if aid != article_id]


def stories_of(snapshot: Snapshot) -> Stories:
    """The stories of one snapshot's live articles."""
    members: dict[str, set[str]] = {}
    for view in snapshot.views:
        for aid, story in view.segment.duplicates.stories.items():
            if view.has_article(aid):  # a live article lives in one segment only
                members.setdefault(story, set()).add(aid)
    for story, found in members.items():
        if snapshot.article_view(story) is not None:
            found.add(story)
    kept = {story: tuple(sorted(found)) for story, found in members.items() if len(found) > 1}
    return Stories({aid: story for story, found in kept.items() for aid in found}, kept)
