"""The Whoosh fixes: AND NOT whose NOT side starts first, segment names a reseeded `random` cannot repeat, and
in-memory indexes' temporary files in folders of their own."""

import random

import pytest

from whoosh.codec.base import Segment as WhooshSegment
from whoosh.matching import ListMatcher
from whoosh.matching.binary import AndNotMatcher

import index.store.bm25_store  # noqa: F401  (installs the fixes)


def test_and_not_drops_a_document_the_not_side_holds_when_it_starts_first():
    assert list(AndNotMatcher(ListMatcher([5, 6, 7]), ListMatcher([3, 5, 6, 7])).all_ids()) == []
    assert list(AndNotMatcher(ListMatcher([5, 6, 8]), ListMatcher([3, 5, 7])).all_ids()) == [6, 8]
    assert list(AndNotMatcher(ListMatcher([1, 4]), ListMatcher([2, 3])).all_ids()) == [1, 4]


def test_segment_names_ignore_a_seeded_random():
    random.seed(0)
    first = WhooshSegment._random_id()
    random.seed(0)
    assert WhooshSegment._random_id() != first


def test_in_memory_writers_at_once_keep_their_temporary_files_and_leave_none(tmp_path, monkeypatch):
    import tempfile

    from whoosh.fields import ID, Schema
    from whoosh.filedb.filestore import RamStorage

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where Whoosh put every in-memory index's files
    schema = Schema(id=ID(stored=True))
    first, second = (RamStorage().create_index(schema) for _ in range(2))
    writing = first.writer()  # its temporary files exist from here on
    writing.add_document(id="a")
    with second.writer() as other:  # another in-memory index (another thread, another process) finishes first
        other.add_document(id="b")
    writing.commit()  # Whoosh's own: FileNotFoundError, its files deleted with the folder they shared
    with first.writer() as again:  # a second writer of the same index: its folder made again
        again.add_document(id="c")
    assert sorted(d["id"] for d in first.searcher().documents()) == ["a", "c"]
    assert [d["id"] for d in second.searcher().documents()] == ["b"]
    assert list(tmp_path.iterdir()) == []  # every temporary folder removed by the writer that finished


def test_an_in_memory_writer_that_fails_leaves_no_temporary_folder(tmp_path, monkeypatch):
    import tempfile

    from whoosh.fields import ID, Schema

    from index.store.whoosh_fixes import ram_storage

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(RuntimeError):
        with ram_storage() as storage:
            writer = storage.create_index(Schema(id=ID(stored=True))).writer()
            writer.add_document(id="a")
            assert len(list(tmp_path.iterdir())) == 1  # its temporary files, in a folder of its own
            raise RuntimeError("the writer never finishes")
    assert list(tmp_path.iterdir()) == []
