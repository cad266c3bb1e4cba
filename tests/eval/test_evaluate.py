"""Evaluation on a tiny BEIR dataset: runs at document level, ranx metrics, index reuse."""

import pytest

from eval.evaluate import evaluate_dataset
from eval.metrics import METRICS, score
from eval.runs import judged_unit, to_run


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


def test_article_level_scoring_grades_an_article_by_its_best_judged_paragraph():
    from eval.datasets import DatasetError
    from eval.runs import scored_level

    qrels = {"q": {"d1.p000": 1, "d1.p002": 2, "d2.p001": 0}}
    owners = lambda pid: pid.split(".")[0]  # noqa: E731
    assert scored_level(qrels, "paragraph", None, owners) == ("paragraph", qrels)
    assert scored_level(qrels, "paragraph", "article", owners) == ("article", {"q": {"d1": 2, "d2": 0}})
    articles = {"q": {"d1": 1}}
    assert scored_level(articles, "article", "article", owners) == ("article", articles)
    with pytest.raises(DatasetError, match="--group article"):
        scored_level(articles, "article", "paragraph", owners)
