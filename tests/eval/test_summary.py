"""What `zhsearch eval` writes: setup, comparisons, losses, TREC runs, the report and tuning."""

from ranx import Run

from eval.evaluate import evaluate_dataset
from eval.summary import Extras, summarize


def test_every_extra_on_a_tiny_dataset(dataset, settings, fake_encoder, tmp_path):
    evaluation = evaluate_dataset(dataset, settings, encoder=fake_encoder, quiet=True)
    out = summarize(evaluation, Extras(compare=True, per_query=True, run_dir=tmp_path / "runs",
                                       report_dir=tmp_path / "report", tune=True, folds=2))

    fusion = out["setup"]["fusion"]
    assert (fusion["method"], fusion["k0"], fusion["article_weight"]) == (
        settings.fusion, settings.k0, settings.article_weight)
    assert out["setup"]["model"] == {**fake_encoder.config(), **fake_encoder.describe()}

    pairs = {(row["a"], row["b"]) for row in out["comparisons"]}
    assert pairs == {("bm25", "dense"), ("bm25", "hybrid"), ("dense", "hybrid")}
    assert all(0.0 <= row["p_value"] <= 1.0 and "Fisher" in row["test"] for row in out["comparisons"])

    assert isinstance(out["per_query"], list)
    for path in out["runs"]:
        run = Run.from_file(path, kind="trec")
        assert set(run.keys()) <= {"q1", "q2", "q3"} and run.size > 0

    report = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "| hybrid | " in report and f"article weight {settings.article_weight}" in report
    assert (tmp_path / "report" / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    tuning = out["tuning"]
    assert len(tuning["folds"]) == 2 and tuning["queries"] == 3
    # Judged by document: article context cannot change a run, so only the configured weight is
    # tried, and the advice leaves it alone.
    assert {fold["chosen"]["article_weight"] for fold in tuning["folds"]} == {settings.article_weight}
    assert "ZHSEARCH_FUSION=" in tuning["apply"] and "ARTICLE_WEIGHT" not in tuning["apply"]
