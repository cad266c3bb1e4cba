"""`zhsearch eval --url`: a running service evaluated over HTTP scores as the same index evaluated locally."""

from __future__ import annotations

import pytest

from eval.datasets import load_dataset
from eval.evaluate import ensure_corpus_index, evaluate_dataset
from eval.remote import ServiceError, evaluate_service
from index.builder import build_index
from index.tokenize import tokenizer_from
from live_server import serving


def test_a_service_scores_as_its_index_does_locally(dataset, settings, fake_encoder):
    ensure_corpus_index(load_dataset(dataset), settings, fake_encoder, quiet=True)
    local = evaluate_dataset(dataset, settings, encoder=fake_encoder, quiet=True)
    with serving(settings, fake_encoder) as url:
        remote = evaluate_service(load_dataset(dataset), url, quiet=True)
        condensed = evaluate_service(load_dataset(dataset), url, ["dense"], quiet=True, condense=True)
    assert remote.scores == local.scores
    for mode, run in local.runs.items():  # the same rankings; the API's scores are rounded to 6 places
        assert {qid: list(ranking) for qid, ranking in remote.runs[mode].items()} == \
            {qid: list(ranking) for qid, ranking in run.items()}
        assert all(remote.runs[mode][qid][doc] == pytest.approx(score, abs=1e-6)
                   for qid, ranking in run.items() for doc, score in ranking.items())
    assert remote.setup["judged_level"] == "article" and remote.setup["rejected_queries"] == 0
    assert condensed.scores["dense"]["judged@10"] == local.scores["dense"]["judged@10"]
    assert all(set(ranking) <= set(local.dataset.qrels[qid]) for qid, ranking in condensed.runs["dense"].items())


def test_a_service_over_another_corpus_is_refused_with_the_ids_it_lacks(dataset, settings, fake_encoder,
                                                                       tiny_articles):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    with serving(settings, fake_encoder) as url, pytest.raises(ServiceError, match=r"holds 0 of the 3 .*missing: d1"):
        evaluate_service(load_dataset(dataset), url, quiet=True)


def test_an_unreachable_service_names_the_fix(dataset):
    from conftest import refusing_port

    with refusing_port() as port, pytest.raises(ServiceError, match="cannot reach .*start the service"):
        evaluate_service(load_dataset(dataset), f"http://127.0.0.1:{port}", quiet=True)
