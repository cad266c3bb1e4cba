"""Encoding a corpus in length-sorted chunks puts every vector back on its own row."""

import numpy as np
from rich.console import Console

from fakes import FakeEncoder
from index.model import passage_vectors
from index.model.passage_vectors import encode_to_file, length_order


def test_length_order_is_stable():
    assert length_order([3, 1, 2, 1]).tolist() == [1, 3, 2, 0]


def test_chunks_are_cut_by_the_encoders_token_counts(monkeypatch):
    """Passages go to the model shortest first by its own token count, not by characters."""

    class Recording(FakeEncoder):
        def __init__(self) -> None:
            super().__init__()
            self.batches: list[list[str]] = []

        def passage_lengths(self, texts):  # "tokens" that disagree with characters
            return np.array([100 - len(t) for t in texts])

        def encode_passages(self, texts, show_progress=False):
            self.batches.append(list(texts))
            return super().encode_passages(texts)

    monkeypatch.setattr(passage_vectors, "CHUNK", 2)
    encoder = Recording()
    texts = ["一", "一二三四", "一二", "一二三"]
    out = np.zeros((4, encoder.dim), dtype=np.float32)
    passage_vectors.encode_into(encoder, texts, out, Console(quiet=True))
    assert encoder.batches == [["一二三四", "一二三"], ["一二", "一"]]
    assert np.allclose(out, FakeEncoder().encode_passages(texts))


def test_rows_come_back_in_corpus_order(tmp_path, monkeypatch):
    monkeypatch.setattr(passage_vectors, "CHUNK", 3)  # several chunks, each mixing positions
    texts = [("工会职工" * (7 - i % 7)) + str(i) for i in range(20)]
    encoder = FakeEncoder()
    out = encode_to_file(encoder, texts, tmp_path / "v.npy", Console(quiet=True))
    assert np.allclose(out, encoder.encode_passages(texts))
    assert np.allclose(np.load(tmp_path / "v.npy"), out)


def test_indexing_bounds_caches_unless_the_user_chose(monkeypatch):
    monkeypatch.delenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", raising=False)
    passage_vectors.bound_model_caches()
    import os

    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "16"
    monkeypatch.setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "512")
    passage_vectors.bound_model_caches()
    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "512"
