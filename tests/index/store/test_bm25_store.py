"""Whoosh store: a build by several writer processes ranks as a one-process build does, and fails loudly, never hangs."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from index.store import bm25_store
from index.store.bm25_store import MAX_PROCS, PARALLEL_FROM, BM25Store, make_schema, writer_procs
from index.ingest.sources import read_sources
from index.ingest.paragraphs import split_article
from index.store.parallel_whoosh import ParallelWriteError, write_parallel
from index.settings import Settings
from index.tokenize import tokenizer_from
from index.store.postings.from_text import field_boosts
from index.store.postings.from_whoosh import read_postings
from whoosh.scoring import BM25F

ROOT = Path(__file__).resolve().parents[3]
QUERIES = ["外卖配送员", "职工 培训", "工会为职工办实事", '"暖心驿站"', "职工 NOT 培训", "title:工会", "的"]


def test_writer_procs_parallel_only_for_large_builds():
    assert writer_procs(PARALLEL_FROM - 1, cpus=8) == 1
    assert writer_procs(PARALLEL_FROM, cpus=2) == 2
    assert writer_procs(10 * PARALLEL_FROM, cpus=64) == MAX_PROCS
    assert writer_procs(10 * PARALLEL_FROM, cpus=1) == 1


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this platform")
def test_writer_procs_counts_the_cpus_this_process_may_use():
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})  # as `taskset -c N` or a one-CPU container would
    try:
        assert writer_procs(10 * PARALLEL_FROM) == 1
    finally:
        os.sched_setaffinity(0, allowed)
    assert writer_procs(10 * PARALLEL_FROM) == min(len(allowed), MAX_PROCS)


@pytest.fixture(scope="module")
def seed_builds(tmp_path_factory):
    """The seed paragraphs built twice: by this process alone, and by three writer processes."""
    from conftest import CACHE_DIR

    tokenizer = tokenizer_from(Settings(cache_dir=CACHE_DIR))
    paragraphs = [p for article in read_sources([ROOT / "seeds"]) for p in split_article(article)]
    serial, parallel = tmp_path_factory.mktemp("serial"), tmp_path_factory.mktemp("parallel")
    BM25Store.build(serial, tokenizer, paragraphs, procs=1)
    with pytest.MonkeyPatch.context() as patch:  # small batches: every process gets some of 224 paragraphs
        patch.setattr(bm25_store, "WRITER_BATCH", 40)
        BM25Store.build(parallel, tokenizer, paragraphs, procs=3)
    return tokenizer, paragraphs, serial, parallel


def assert_same_postings(a, b) -> None:
    """Equal postings: the same slots, weights, lengths, and per slot the same (row, code) pairs in any order."""
    assert a.slots == b.slots
    assert {f: w.tolist() for f, w in a.weights.items()} == {f: w.tolist() for f, w in b.weights.items()}
    assert np.array_equal(a.offsets, b.offsets) and np.array_equal(a.lengths, b.lengths)
    for slot in range(a.slot_count):
        span = slice(a.offsets[slot], a.offsets[slot + 1])
        assert sorted(zip(a.rows[span].tolist(), a.codes[span].tolist())) == \
            sorted(zip(b.rows[span].tolist(), b.codes[span].tolist()))


def whoosh_ranking(folder: Path, query: str) -> dict[str, float]:
    from whoosh.qparser import MultifieldParser, OrGroup

    index = BM25Store.open(folder).index
    parsed = MultifieldParser(["title", "text"], index.schema, group=OrGroup).parse(query)
    with index.searcher(weighting=BM25F()) as searcher:
        return {hit["paragraph_id"]: hit.score for hit in searcher.search(parsed, limit=None)}


def test_parallel_build_writes_several_segments_with_every_paragraph(seed_builds):
    _, paragraphs, serial, parallel = seed_builds
    index = BM25Store.open(parallel).index
    assert len(index._segments()) > 1
    with index.searcher() as searcher:
        stored = sorted(fields["paragraph_id"] for fields in searcher.all_stored_fields())
    assert stored == sorted(p.id for p in paragraphs)
    assert BM25Store.open(serial).doc_count() == len(paragraphs)


def test_parallel_build_ranks_scores_and_posts_as_serial(seed_builds):
    _, paragraphs, serial, parallel = seed_builds
    for query in QUERIES:
        one, many = whoosh_ranking(serial, query), whoosh_ranking(parallel, query)
        assert one.keys() == many.keys() and one, query
        assert np.allclose([one[i] for i in sorted(one)], [many[i] for i in sorted(one)], rtol=1e-9), query
    row_of = {p.id: row for row, p in enumerate(paragraphs)}
    ours = [read_postings(BM25Store.open(f).index, row_of, field_boosts(BM25Store.open(f).index.schema))
            for f in (serial, parallel)]
    assert_same_postings(*ours)  # the same postings in rows, whatever order Whoosh numbered them in
    with BM25Store.open(serial).index.reader() as reader:
        assert ours[0].total_length("text") == reader.field_length("text")
        assert ours[0].total_length("title") == reader.field_length("title")


def test_in_memory_build_is_the_disk_build_in_two_files(seed_builds, tmp_path):
    tokenizer, paragraphs, serial, _ = seed_builds
    BM25Store.build(tmp_path, tokenizer, paragraphs, in_memory=True)
    files = sorted(p.suffix for p in (tmp_path / "whoosh").iterdir())
    assert files == [".seg", ".toc"]  # no part files, no lock file left behind
    for query in QUERIES:
        assert whoosh_ranking(tmp_path, query) == whoosh_ranking(serial, query), query
    row_of = {p.id: row for row, p in enumerate(paragraphs)}
    ours = [read_postings(BM25Store.open(f).index, row_of, field_boosts(BM25Store.open(f).index.schema))
            for f in (serial, tmp_path)]
    assert_same_postings(*ours)
    with BM25Store.open(tmp_path).index.searcher() as searcher:
        assert [f["paragraph_id"] for f in searcher.all_stored_fields()] == [p.id for p in paragraphs]


def live(pid: int) -> bool:
    """True while process `pid` runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def small_index(tmp_path: Path):
    """An empty Whoosh index with the paragraph schema."""
    from conftest import CACHE_DIR
    from whoosh import index as whoosh_index

    schema = make_schema(tokenizer_from(Settings(cache_dir=CACHE_DIR)))
    return whoosh_index.create_in(str(tmp_path), schema)


def documents(count: int, bad_at: int | None = None):
    """`count` one-sentence paragraphs; the one numbered `bad_at` has a number for text."""
    for number in range(count):
        text = 12345 if number == bad_at else f"第{number}段：工会为职工办实事。"
        yield {"paragraph_id": f"a{number}.p000", "article_id": f"a{number}", "source": "t", "date": "",
               "position": 0, "title": "标题", "text": text}


def test_an_error_while_feeding_stops_every_writer_process(tmp_path):
    def failing():
        yield from documents(120)
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError, match="source broke"):
        write_parallel(small_index(tmp_path), failing(), procs=2, limitmb=32, batchsize=20)
    assert multiprocessing.active_children() == []


def test_writer_processes_that_all_die_fail_the_build_instead_of_hanging(tmp_path):
    # every batch makes its process fail, and there are more batches than the job queue holds (2 * 4)
    documents_all_bad = (dict(d, text=0) for d in documents(400))
    with pytest.raises(ParallelWriteError, match="exited early|failed"):
        write_parallel(small_index(tmp_path), documents_all_bad, procs=2, limitmb=32, batchsize=20)
    assert multiprocessing.active_children() == []


def test_a_writer_process_that_fails_fails_the_build(tmp_path):
    # a non-text value makes Whoosh raise inside the writer process that gets it, which then exits 1
    with pytest.raises(ParallelWriteError, match="failed|exited early|holds"):
        write_parallel(small_index(tmp_path), documents(120, bad_at=50), procs=2, limitmb=32, batchsize=20)
    assert multiprocessing.active_children() == []


HANG_AFTER_FEEDING = """
import multiprocessing, sys, time
from whoosh import index as whoosh_index
from index.store.bm25_store import make_schema
from index.store.parallel_whoosh import write_parallel
from index.settings import Settings
from index.tokenize import tokenizer_from

folder, cache = sys.argv[1], sys.argv[2]
ix = whoosh_index.create_in(folder, make_schema(tokenizer_from(Settings(cache_dir=cache))))

def documents():
    for n in range(100):
        yield {"paragraph_id": f"a{n}.p000", "article_id": f"a{n}", "source": "t", "date": "", "position": 0,
               "title": "标题", "text": "工会为职工办实事。"}
    print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
    time.sleep(600)

write_parallel(ix, documents(), procs=2, limitmb=32, batchsize=20)
"""


def test_writer_processes_end_when_their_parent_is_killed(tmp_path):
    from conftest import CACHE_DIR

    parent = subprocess.Popen([sys.executable, "-c", HANG_AFTER_FEEDING, str(tmp_path), str(CACHE_DIR)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        children = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(children) == 2 and all(live(pid) for pid in children)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 20
    while any(live(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(live(pid) for pid in children)


def test_postings_from_the_text_are_the_postings_whoosh_reads_back(seed_builds):
    from index.store.postings.from_text import postings_of_text
    from index.store.postings.from_whoosh import whoosh_rows

    _, paragraphs, serial, _ = seed_builds
    index = BM25Store.open(serial).index
    row_of = {p.id: row for row, p in enumerate(paragraphs)}
    read = read_postings(index, row_of, field_boosts(index.schema))
    computed = postings_of_text(index.schema, [{"title": p.title, "text": p.text} for p in paragraphs],
                                field_boosts(index.schema))
    assert_same_postings(read, computed)
    assert np.array_equal(np.concatenate(whoosh_rows(index, row_of)), np.arange(len(paragraphs)))  # one writer


def test_postings_from_the_text_with_empty_fields_are_whoosh_s(seed_builds, tmp_path):
    """A field without any term in a whole write (no title, a text of one digit or of punctuation only):
    the fuzzer's `{"id": "0", "text": "0"}`. Its slots are empty and the next field's start where they would."""
    from index.models import Paragraph
    from index.store.postings.from_text import postings_of_text

    tokenizer = seed_builds[0]
    paragraphs = [Paragraph(id=f"a{i}.p000", article_id=f"a{i}", position=0, text=text, title=title)
                  for i, (title, text) in enumerate([("", "0"), ("", "。，"), ("", "职工 培训 职工")])]
    BM25Store.build(tmp_path, tokenizer, paragraphs, procs=1)
    index = BM25Store.open(tmp_path).index
    read = read_postings(index, {p.id: row for row, p in enumerate(paragraphs)}, field_boosts(index.schema))
    computed = postings_of_text(index.schema, [{"title": p.title, "text": p.text} for p in paragraphs],
                                field_boosts(index.schema))
    assert not computed.slots["title"] and computed.slots["text"]
    assert_same_postings(read, computed)


def test_postings_from_the_text_with_many_distinct_frequencies_are_whoosh_s(seed_builds, tmp_path):
    """Over 256 distinct frequencies in a field widen the codes to uint32; long fields saturate the length byte."""
    from index.models import Paragraph
    from index.store.postings.from_text import postings_of_text

    tokenizer = seed_builds[0]
    paragraphs = [Paragraph(id=f"a{n}.p000", article_id=f"a{n}", position=0, text="职工 " * n + "培训", title="工会")
                  for n in range(1, 300)]
    BM25Store.build(tmp_path, tokenizer, paragraphs, procs=1)
    index = BM25Store.open(tmp_path).index
    read = read_postings(index, {p.id: row for row, p in enumerate(paragraphs)}, field_boosts(index.schema))
    computed = postings_of_text(index.schema, [{"title": p.title, "text": p.text} for p in paragraphs],
                                field_boosts(index.schema))
    assert computed.codes.dtype == np.uint32 and len(computed.weights["text"]) > 256
    assert_same_postings(read, computed)


def test_a_segment_of_several_writers_reads_its_rows_back_from_whoosh(seed_builds, tmp_path):
    """Whoosh numbers a several-process build's documents in its own order: the rows are read back, never assumed."""
    from index.store.postings.from_whoosh import whoosh_rows
    from index.store.postings.segment_postings import POSTINGS_DIR
    from index.store.segment import WHOOSH_ROWS, added_in_order, write_postings

    _, paragraphs, serial, parallel = seed_builds
    ids = [p.id for p in paragraphs]
    assert added_in_order(BM25Store.open(serial), ids, paragraphs)
    store = BM25Store.open(parallel)
    assert not added_in_order(store, ids, paragraphs)
    write_postings(tmp_path, store, ids, paragraphs)
    expected = np.concatenate(whoosh_rows(store.index, {pid: row for row, pid in enumerate(ids)}))
    assert np.array_equal(np.load(tmp_path / POSTINGS_DIR / WHOOSH_ROWS), expected)
