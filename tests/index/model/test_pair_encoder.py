"""PairEncoder: a lone query from one runtime, batches and passages from another, refused unless they agree."""

import numpy as np
import pytest

from fakes import FakeEncoder
from index.model.embed import ModelLoadError
from index.model.pair_encoder import PairEncoder


class Shifted(FakeEncoder):
    """The fake encoder with every query vector turned a little (`angle` radians) towards another axis."""

    def __init__(self, angle: float) -> None:
        super().__init__()
        self.angle = angle

    def encode_queries(self, texts):
        vectors = super().encode_queries(texts)
        out = np.cos(self.angle) * vectors + np.sin(self.angle) * np.roll(vectors, 1, axis=1)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_a_lone_query_goes_to_the_lone_encoder_batches_and_passages_to_the_rest():
    made = []

    def make():
        made.append(Shifted(0.01))
        return made[-1]

    rest = FakeEncoder()
    pair = PairEncoder(make, rest, "onnx/int8", batch=4)
    assert made == [] and pair.describe() == {"queries": "onnx/int8", "query_batches": "fake", "passages": "fake"}
    np.testing.assert_allclose(pair.encode_queries(["工会"]), made[0].encode_queries(["工会"]))
    np.testing.assert_allclose(pair.encode_queries(["工会", "职工", "工匠"]), made[0].encode_queries(["工会", "职工", "工匠"]))
    four = ["工会", "职工", "工匠", "学院"]
    np.testing.assert_array_equal(pair.encode_queries(four), rest.encode_queries(four))
    assert len(made) == 1
    np.testing.assert_array_equal(pair.encode_passages(["工会"]), rest.encode_passages(["工会"]))
    assert pair.config() == rest.config()


def test_a_lone_runtime_out_of_the_passages_space_is_refused():
    made = []
    pair = PairEncoder(lambda: made.append(1) or Shifted(0.5), FakeEncoder(), "onnx/int8")
    for _ in range(2):
        with pytest.raises(ModelLoadError, match="agree with fake only to cosine 0.8"):
            pair.encode_queries(["工会"])
    assert made == [1]  # refused once, not loaded again at every query
