"""Pooling: every mode's unjudged top results, with a TREC run's, at the qrels' level; the file written whole."""

from __future__ import annotations

import json

import pytest

from eval.datasets import DatasetError, load_dataset
from eval.evaluate import ensure_corpus_index
from eval.pool import pool, read_trec_runs, unjudged_top, write_pool
from search.engine import open_searcher


def test_unjudged_top_keeps_each_document_s_finders_and_best_rank():
    runs = {"a": {"q": {"x": 3.0, "j": 2.0, "y": 1.0}}, "b": {"q": {"y": 9.0, "z": 1.0}}}
    assert unjudged_top(runs, {"q": {"j": 0}}, depth=2) == {"q": {"x": (["a"], 1), "y": (["b"], 1), "z": (["b"], 2)}}
    assert unjudged_top(runs, {}, depth=3)["q"]["y"] == (["a", "b"], 1)


@pytest.fixture
def searcher(dataset, settings, fake_encoder):
    ensure_corpus_index(load_dataset(dataset), settings, fake_encoder, quiet=True)
    return open_searcher(settings, fake_encoder)


def test_the_pool_holds_every_query_s_unjudged_results_at_the_qrels_level(dataset, searcher, tmp_path):
    data = load_dataset(dataset)
    (tmp_path / "mine.trec").write_text("q1 Q0 d3 1 5.0 mine\nq1 Q0 d1 2 4.0 mine\n")
    items = pool(data, searcher, depth=10, extra_runs=read_trec_runs([tmp_path / "mine.trec"]))
    assert items and not [i for i in items if i.doc_id in data.qrels.get(i.query_id, {})]
    assert {i.doc_id for i in items} <= {"d1", "d2", "d3"}  # documents (articles), as the qrels judge them
    assert {i.query_id for i in items} == {"q1", "q2", "q3", "q4"}  # the unjudged query too
    mine = next(i for i in items if (i.query_id, i.doc_id) == ("q1", "d3"))
    assert mine.found_by[-1] == "mine" and mine.best_rank == 1 and "dense" in mine.found_by
    assert mine.title == "游戏" and mine.text == "遊戲由韓國公司開發與發行。"
    assert items == sorted(items, key=lambda i: (i.query_id, i.best_rank, i.doc_id))
    only_bm25 = pool(data, searcher, depth=10, modes=["bm25"])
    assert all(i.found_by == ["bm25"] for i in only_bm25) and len(only_bm25) < len(items)
    paragraphs = pool(data, searcher, depth=10, level="paragraph")
    assert all(".p" in i.doc_id for i in paragraphs)
    write_pool(items, tmp_path / "pool.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "pool.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["query_id"], r["doc_id"]) for r in rows] == [(i.query_id, i.doc_id) for i in items]


def test_a_bad_run_file_is_a_clear_error(tmp_path):
    (tmp_path / "bad.trec").write_text("not a run\n")
    with pytest.raises(DatasetError, match="not a TREC run"):
        read_trec_runs([tmp_path / "bad.trec"])
    with pytest.raises(DatasetError, match="no such run file"):
        read_trec_runs([tmp_path / "none.trec"])


def test_zhsearch_pool_writes_the_pool(dataset, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from api.cli.main import app
    from fakes import FakeEncoder

    monkeypatch.setattr("index.model.runtime.load_encoder", lambda settings: FakeEncoder())
    out = tmp_path / "pool.jsonl"
    result = CliRunner().invoke(app, ["pool", str(dataset), "--out", str(out), "--depth", "2", "--modes", "dense",
                                      "--index-dir", str(tmp_path / "index"), "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0 and "pooled into" in result.stdout
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows and all(r["found_by"] == ["dense"] and r["best_rank"] <= 2 for r in rows)
