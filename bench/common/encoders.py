"""The encoder a benchmark run uses: the configured model, or the tests' fake one for quick runs."""

from __future__ import annotations

import sys

from bench.common.paths import TESTS
from index.model.embed import Encoder
from index.model.runtime import load_encoder as load_model_encoder
from index.settings import Settings


def load_encoder(settings: Settings, fake: bool) -> Encoder:
    """`tests/fakes.py`'s FakeEncoder (character bigrams, no model) when `fake`, else the real model."""
    if not fake:
        return load_model_encoder(settings)
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    from fakes import FakeEncoder

    return FakeEncoder()
