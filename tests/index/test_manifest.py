"""Commit points read once per file: a replaced file is read anew, and a parsed one cannot be changed in place."""

from __future__ import annotations

import os

import pydantic
import pytest

from index.manifest import Manifest, SegmentInfo, read_manifest
from index.store.durable import write_atomic


def manifest(generation: int) -> Manifest:
    return Manifest(generation=generation, model={"name": "m", "probe": [[0.1, 0.2]]}, tokenizer={"name": "t"},
                    segments=[SegmentInfo(name=f"seg-{generation}", rows=3, articles=1)])


def test_a_file_is_parsed_once_and_a_replaced_one_anew(tmp_path):
    path = tmp_path / "commit-00000001.json"
    write_atomic(path, manifest(1).model_dump_json())
    first = read_manifest(path)
    assert read_manifest(path) is first  # kept by the file's identity
    write_atomic(path, manifest(2).model_dump_json())  # (never done to a commit point: a new inode all the same)
    assert read_manifest(path).generation == 2
    path.write_text(manifest(3).model_dump_json())  # even rewritten in place: another size or mtime
    os.utime(path, ns=(1, 1))
    assert read_manifest(path).generation == 3


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_manifest(tmp_path / "commit-00000009.json")


def test_a_shared_manifest_is_frozen():
    found = manifest(1)
    with pytest.raises(pydantic.ValidationError):
        found.generation = 5
    with pytest.raises(pydantic.ValidationError):
        found.segments[0].deletes = "del-x"
    assert found.model_copy(update={"generation": 5}).generation == 5


def test_commit_points_with_one_model_share_its_parsed_record(tmp_path):
    first, second = tmp_path / "commit-00000001.json", tmp_path / "commit-00000002.json"
    write_atomic(first, manifest(1).model_dump_json())
    write_atomic(second, manifest(2).model_dump_json())
    other = manifest(3).model_copy(update={"model": {"name": "m", "probe": [[0.1, 0.3]]}})
    write_atomic(tmp_path / "commit-00000003.json", other.model_dump_json())
    a, b, c = (read_manifest(tmp_path / f"commit-0000000{g}.json") for g in (1, 2, 3))
    assert a is not b and a.model == b.model and a.model["probe"] is b.model["probe"]  # one copy of the vectors
    assert c.model["probe"] == [[0.1, 0.3]] and c.model["probe"] is not a.model["probe"]
