"""Encoding a corpus in length-sorted chunks puts every vector back on its own row."""

import numpy as np
from rich.console import Console

from fakes import FakeEncoder
from index import passage_vectors
from index.passage_vectors import encode_to_file, length_order


def test_length_order_is_stable():
    assert length_order(["ccc", "a", "bb", "d"]).tolist() == [1, 3, 2, 0]


def test_rows_come_back_in_corpus_order(tmp_path, monkeypatch):
    monkeypatch.setattr(passage_vectors, "CHUNK", 3)  # several chunks, each mixing positions
    texts = [("工会职工" * (7 - i % 7)) + str(i) for i in range(20)]
    encoder = FakeEncoder()
    out = encode_to_file(encoder, texts, tmp_path / "v.npy", Console(quiet=True))
    assert np.allclose(out, encoder.encode_passages(texts))
    assert np.allclose(np.load(tmp_path / "v.npy"), out)
