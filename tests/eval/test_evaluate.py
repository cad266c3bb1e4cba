"""Evaluation on a tiny BEIR dataset: runs at document level, ranx metrics, index reuse."""

import json

import pytest

from eval.evaluate import evaluate_dataset
from eval.metrics import METRICS, score
from eval.runs import judged_unit, to_run


@pytest.fixture
def dataset(tmp_path):
    folder = tmp_path / "tiny-beir"
    (folder / "qrels").mkdir(parents=True)
    docs = [
        {"_id": "d1", "title": "工匠学院", "text": "工匠学院直通车开到生产一线。\n讲师团为职工充电赋能。"},
        {"_id": "d2", "title": "驿站", "text": "工会为外卖配送员建起暖心驿站。"},
        {"_id": "d3", "title": "游戏", "text": "遊戲由韓國公司開發與發行。"},
    ]
    queries = [{"_id": "q1", "text": "讲师团为谁充电"}, {"_id": "q2", "text": "外卖配送员驿站"},
               {"_id": "q3", "text": "游戏由谁开发"}, {"_id": "q4", "text": "没有判断的问题"}]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td3\t1\n")
    return folder


def test_paragraph_hits_collapse_to_their_document():
    ranked = [("d1.p001", 0.9), ("d2.p000", 0.8), ("d1.p000", 0.7)]
    owners = {"d1.p000": "d1", "d1.p001": "d1", "d2.p000": "d2"}
    assert to_run(ranked, judged_unit({"q": {"d1": 1}}, owners), 10) == {"d1": 0.9, "d2": 0.8}
    assert to_run(ranked, judged_unit({"q": {"d1.p000": 2}}, owners), 2) == {"d1.p001": 0.9, "d2.p000": 0.8}


def test_score_is_ranx_arithmetic():
    result = score({"q": {"a": 1}}, {"q": {"b": 2.0, "a": 1.0}})
    assert result["mrr@10"] == 1 / 2 and result["recall@1"] == 0.0 and result["recall@5"] == 1.0
    assert set(result) == set(METRICS)


def test_every_mode_scored_and_index_reused(dataset, settings, fake_encoder):
    first = evaluate_dataset(dataset, settings, encoder=fake_encoder, quiet=True)
    assert set(first.scores) == {"bm25", "dense", "hybrid"}
    assert first.scores["bm25"]["ndcg@10"] == 1.0
    generation = (settings.index_dir / "CURRENT").read_text()
    again = evaluate_dataset(dataset, settings, ["hybrid"], encoder=fake_encoder, quiet=True)
    assert (settings.index_dir / "CURRENT").read_text() == generation
    assert again.scores["hybrid"] == first.scores["hybrid"]


def test_index_rebuilt_when_the_sentence_vectors_setting_changes(dataset, settings, fake_encoder):
    evaluate_dataset(dataset, settings, encoder=fake_encoder, quiet=True)
    generation = (settings.index_dir / "CURRENT").read_text()
    plain = settings.model_copy(update={"sentence_vectors": False})
    evaluate_dataset(dataset, plain, encoder=fake_encoder, quiet=True)
    assert (settings.index_dir / "CURRENT").read_text() != generation
