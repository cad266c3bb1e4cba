"""`zhsearch export` and the commands over a Milvus corpus: what they print, and errors that name the fix."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.cli.main import app
from index.builder import build_index
from index.tokenize import tokenizer_from
from milvus_setup import SERVER, drop_corpus, milvus_settings

runner = CliRunner()


@pytest.fixture
def built(settings, tiny_articles, fake_encoder, tmp_path):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    target = milvus_settings(settings, tmp_path, "cli")
    yield target
    drop_corpus(target)


def export(target, *extra):
    return runner.invoke(app, ["export", "--index-dir", str(target.index_dir), "--to", target.milvus_uri,
                               "--collection", target.milvus_collection, "--quiet", *extra])


def test_export_copies_the_index_and_refuses_to_overwrite(built, monkeypatch):
    done = export(built)
    assert done.exit_code == 0, done.output
    assert "exported 3 articles, 4 paragraphs" in done.output and built.milvus_collection in done.output
    again = export(built)
    assert again.exit_code == 2 and "--replace" in again.output
    assert export(built, "--replace").exit_code == 0
    # the copy opens with the settings it was built with, and not with another tokenizer
    monkeypatch.setenv("ZHSEARCH_FOLD_TRADITIONAL", "false")
    from index.manifest import IndexMismatchError
    from search.engine import open_searcher
    from fakes import FakeEncoder

    with pytest.raises(IndexMismatchError, match="zhsearch export"):
        open_searcher(built.model_copy(update={"fold_traditional": False}), FakeEncoder())


def test_a_missing_corpus_or_a_bad_address_names_the_fix(built, tmp_path, fake_encoder):
    from index.milvus.record import CorpusNotFoundError
    from search.engine import open_searcher

    with pytest.raises(CorpusNotFoundError, match="zhsearch export"):
        open_searcher(built, fake_encoder)
    bad = runner.invoke(app, ["export", "--index-dir", str(built.index_dir), "--to", str(tmp_path / "none" / "m.db")])
    assert bad.exit_code == 2 and "does not exist" in bad.output
    if SERVER is None:
        wrong = runner.invoke(app, ["export", "--index-dir", str(built.index_dir), "--to", str(tmp_path / "m.milvus")])
        assert wrong.exit_code == 2 and "must end in .db" in wrong.output


def test_add_and_delete_write_to_milvus(built, fake_encoder, monkeypatch):
    from api.cli.milvus import milvus_update
    from index.models import Article

    assert export(built).exit_code == 0
    told = milvus_update(built, [Article("a9", "新文章", ("工会为外卖配送员送去热饺子。",), source="cli.txt")], [],
                         fake_encoder)
    assert told.startswith("4 articles, 5 paragraphs")
    for name, value in (("ZHSEARCH_BACKEND", "milvus"), ("ZHSEARCH_MILVUS_URI", built.milvus_uri),
                        ("ZHSEARCH_MILVUS_COLLECTION", built.milvus_collection)):
        monkeypatch.setenv(name, value)
    deleted = runner.invoke(app, ["delete", "a9", "a1"])
    assert deleted.exit_code == 0 and "2 articles, 2 paragraphs" in deleted.output
    again = runner.invoke(app, ["delete", "a9"])
    assert again.exit_code == 2 and "no article 'a9'" in again.output
