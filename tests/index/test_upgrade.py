"""An index from before segments (format 2: one generation folder) opens after `upgrade`, keeping its files."""

import json
import shutil

import pytest

from index.builder import build_index
from index.check import check_index
from index.commits import CURRENT_FILE, read_current
from index.manifest import IndexMismatchError
from index.snapshot import open_snapshot
from index.store.postings.segment_postings import POSTINGS_DIR
from index.store.segment import ARTICLE_ROWS
from index.tokenize import tokenizer_from
from index.upgrade import upgrade_index


def as_format_2(index_dir, manifest) -> str:
    """Turn a freshly built index into what format 2 wrote: gen-* folder, manifest.json, CURRENT naming it."""
    segment = index_dir / manifest.segments[0].name
    generation = index_dir / "gen-20261130-120000-000000001-1"
    segment.rename(generation)
    shutil.rmtree(generation / POSTINGS_DIR)
    (generation / ARTICLE_ROWS).unlink()
    old = manifest.model_dump(exclude={"segments", "generation"}) | {"format_version": 2, "vectors": manifest.paragraphs}
    (generation / "manifest.json").write_text(json.dumps(old))
    for commit in index_dir.glob("commit-*.json"):
        commit.unlink()
    (index_dir / CURRENT_FILE).write_text(generation.name + "\n")
    return generation.name


def test_upgrade_keeps_the_vectors_and_answers_as_before(settings, tiny_articles, fake_encoder):
    from search.engine import open_searcher

    manifest = build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    before = open_searcher(settings, fake_encoder).search("外卖配送员", "hybrid")
    name = as_format_2(settings.index_dir, manifest)
    vectors = (settings.index_dir / name / "vectors.faiss").read_bytes()
    with pytest.raises(IndexMismatchError, match="zhsearch upgrade"):
        open_snapshot(settings.index_dir, fake_encoder.config(), tokenizer_from(settings).config())
    upgraded = upgrade_index(settings.index_dir)
    assert upgraded.segments[0].name == name and upgraded.paragraphs == manifest.paragraphs
    assert (settings.index_dir / name / "vectors.faiss").read_bytes() == vectors  # nothing embedded again
    after = open_searcher(settings, fake_encoder).search("外卖配送员", "hybrid")
    assert [(h.paragraph.id, h.score) for h in after.hits] == [(h.paragraph.id, h.score) for h in before.hits]
    assert check_index(settings.index_dir)[1] == [] and upgrade_index(settings.index_dir) is None
    assert read_current(settings.index_dir)[1].generation == 1
