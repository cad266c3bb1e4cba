"""PairEncoder: queries from one runtime, passages from another, refused unless they share a space."""

import numpy as np
import pytest

from fakes import FakeEncoder
from index.model.embed import ModelLoadError
from index.model.pair_encoder import PairEncoder


class Shifted(FakeEncoder):
    """The fake encoder with every vector rotated a little (`angle` radians) into another axis."""

    def __init__(self, angle: float) -> None:
        super().__init__()
        self.angle = angle

    def encode_queries(self, texts):
        vectors = super().encode_queries(texts)
        rotated = np.roll(vectors, 1, axis=1)
        out = np.cos(self.angle) * vectors + np.sin(self.angle) * rotated
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_queries_load_once_and_come_from_the_query_encoder():
    made = []

    def make():
        made.append(Shifted(0.01))
        return made[-1]

    pair = PairEncoder(make, FakeEncoder(), "onnx/int8")
    assert made == [] and pair.describe() == {"queries": "onnx/int8", "passages": "fake"}
    np.testing.assert_allclose(pair.encode_queries(["工会"]), made[0].encode_queries(["工会"]))
    pair.encode_queries(["职工"])
    assert len(made) == 1
    np.testing.assert_array_equal(pair.encode_passages(["工会"]), FakeEncoder().encode_passages(["工会"]))
    assert pair.config() == FakeEncoder().config()


def test_a_query_runtime_out_of_the_passages_space_is_refused():
    pair = PairEncoder(lambda: Shifted(0.5), FakeEncoder(), "onnx/int8")
    with pytest.raises(ModelLoadError, match="agree with fake only to cosine 0.8"):
        pair.encode_queries(["工会"])
