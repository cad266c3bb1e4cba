"""The service's searcher holder: reloads on a new generation, and keeps the loaded index out of the GC's scans."""

import gc
import weakref

from api.holder import SearcherHolder
from index.builder import build_index
from index.tokenize import tokenizer_from


def test_loaded_index_is_frozen_and_a_replaced_searcher_is_freed(settings, tiny_articles, fake_encoder):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    holder = SearcherHolder(settings, fake_encoder)
    try:
        holder.load()
        assert holder.problem == "" and gc.get_freeze_count() > 0
        first = weakref.ref(holder.get())
        build_index(settings.index_dir, tiny_articles[:2], tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
        second = holder.get()  # CURRENT changed: reopened, and the first searcher's cycles collected
        assert second is not None and first() is None
        assert len(second.snapshot.docs.articles) == 2
    finally:
        gc.unfreeze()
