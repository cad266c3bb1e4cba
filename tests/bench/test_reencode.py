"""bench/model/reencode.py: another encoder's vectors in a linked copy of a bench index, the source left as it was."""

import hashlib
import json
from pathlib import Path

from conftest import TINY
from fakes import FakeEncoder
from index.builder import build_index
from index.check import check_index
from index.commits import read_current
from index.tokenize import tokenizer_from
from bench.model.reencode import reencode


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_reencoded_index_is_consistent_and_its_source_unchanged(tmp_path, settings):
    source = tmp_path / "source"
    source.mkdir()
    with open(source / "corpus.jsonl", "w", encoding="utf-8") as handle:
        for a in TINY:
            handle.write(json.dumps({"id": a.id, "title": a.title, "text": "\n".join(a.paragraphs),
                                     "source": a.source}, ensure_ascii=False) + "\n")
    build_index(source / "index", list(TINY), tokenizer_from(settings), FakeEncoder(64), ["tiny"], quiet=True)
    before = digest(source / "index")

    reencode(source, tmp_path / "target", FakeEncoder(32), settings)

    assert digest(source / "index") == before
    _, manifest = read_current(tmp_path / "target" / "index")
    assert manifest.model["dim"] == 32 and manifest.generation == 2
    assert check_index(tmp_path / "target" / "index")[1] == []
    segment = tmp_path / "target" / "index" / manifest.segments[0].name
    assert (segment / "vectors.faiss").stat().st_nlink == 1  # its own file, not a link to the source's
