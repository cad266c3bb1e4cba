"""A segment's deleted rows counted from its postings (numpy) and from their own text (the analyzer) agree."""

from pathlib import Path

import numpy as np
import pytest

from index.builder import build_index
from index.commits import read_current
from index.ingest.sources import read_sources
from index.store.postings.deleted_stats import from_postings, from_text
from index.store.segment import Segment
from index.tokenize import tokenizer_from

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def segment(tmp_path_factory):
    from conftest import CACHE_DIR
    from fakes import FakeEncoder
    from index.settings import Settings

    settings = Settings(index_dir=tmp_path_factory.mktemp("stats") / "index", cache_dir=CACHE_DIR)
    build_index(settings.index_dir, read_sources([ROOT / "seeds"]), tokenizer_from(settings), FakeEncoder(),
                ["seeds"], quiet=True)
    return Segment.open(settings.index_dir / read_current(settings.index_dir)[1].segments[0].name)


@pytest.mark.parametrize("seed,count", [(0, 0), (1, 1), (2, 7), (3, 60), (4, 224)])
def test_both_counts_agree(segment, seed, count):
    rows = np.sort(np.random.default_rng(seed).choice(segment.size, size=min(count, segment.size), replace=False))
    fast = from_postings(segment.postings, rows)
    slow = from_text(segment.postings, segment.bm25.index.schema, segment.paragraphs, rows)
    assert (fast.rows, fast.lengths) == (slow.rows, slow.lengths) == (len(rows), fast.lengths)
    assert np.array_equal(fast.df, slow.df)
    if count == segment.size:  # every row deleted: every posting counted
        counts = segment.postings.offsets[1:] - segment.postings.offsets[:-1]
        assert np.array_equal(fast.df, counts) and fast.lengths == segment.postings.totals
