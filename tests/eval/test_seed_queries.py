"""The judged seed query set stays valid: every qrel names a paragraph the splitter still produces."""

from collections import Counter
from pathlib import Path

from eval.datasets import load_dataset
from index.ingest.sources import read_source
from index.ingest.paragraphs import split_article

SEEDS_SET = Path(__file__).resolve().parents[2] / "eval" / "datasets" / "seeds"


def test_every_qrel_points_at_an_existing_paragraph():
    dataset = load_dataset(SEEDS_SET)
    paragraph_ids = {p.id for article in read_source(dataset.corpus) for p in split_article(article)}
    judged = {doc for docs in dataset.qrels.values() for doc in docs}
    missing = sorted(judged - paragraph_ids)
    assert not missing, f"qrels name paragraphs the splitter no longer makes: {missing[:10]}"


def test_set_shape():
    dataset = load_dataset(SEEDS_SET)
    assert len(dataset.queries) >= 80 and set(dataset.qrels) == set(dataset.queries)
    kinds = Counter(dataset.kinds.values())
    assert set(kinds) == {"question", "paraphrase", "keyword"} and min(kinds.values()) >= 20
    assert all(max(docs.values()) == 2 for docs in dataset.qrels.values())
