"""Concurrent query encodings share forward passes, and each caller gets its own rows."""

import threading
import time

import numpy as np
import pytest

from fakes import FakeEncoder
from search.serving.query_batcher import WRITE_PASSES, BatchingEncoder


class GatedEncoder(FakeEncoder):
    """Records each call's size; the first call waits until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []
        self.gate = threading.Event()

    def encode_queries(self, texts):
        self.calls.append(len(texts))
        if len(self.calls) == 1:
            assert self.gate.wait(30)
        return super().encode_queries(texts)


def test_waiting_queries_share_one_pass_and_get_their_own_rows():
    inner = GatedEncoder()
    batcher = BatchingEncoder(inner)
    texts = [f"职工培训第{i}期" for i in range(16)]
    results: dict[int, np.ndarray] = {}
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, batcher.encode_queries([texts[i]])))
               for i in range(16)]
    threads[0].start()
    while not inner.calls:  # the first query is in the model, holding it
        time.sleep(0.001)
    for thread in threads[1:]:
        thread.start()
    while batcher._jobs.qsize() < 15:  # everyone else is waiting
        time.sleep(0.001)
    inner.gate.set()
    for thread in threads:
        thread.join(30)
    assert inner.calls == [1, 15]
    for i, text in enumerate(texts):
        assert np.allclose(results[i], FakeEncoder().encode_queries([text]))


def test_a_model_error_reaches_every_caller():
    class Broken(FakeEncoder):
        def encode_queries(self, texts):
            raise RuntimeError("model failed")

    batcher = BatchingEncoder(Broken())
    with pytest.raises(RuntimeError, match="model failed"):
        batcher.encode_queries(["工会"])
    assert BatchingEncoder(FakeEncoder()).encode_queries([]).shape == (0, 64)


def test_a_query_asked_again_gets_the_same_vector_without_the_model():
    class Counting(FakeEncoder):
        def __init__(self) -> None:
            super().__init__()
            self.texts: list[str] = []

        def encode_queries(self, texts):
            self.texts.extend(texts)
            return super().encode_queries(texts) + len(self.texts)  # a vector that differs call by call

    inner = Counting()
    batcher = BatchingEncoder(inner, recent=2)
    first = batcher.encode_queries(["职工", "工会", "职工"])
    assert inner.texts == ["职工", "工会"] and np.array_equal(first[0], first[2])
    again = batcher.encode_queries(["工会", "劳模"])
    assert inner.texts == ["职工", "工会", "劳模"] and np.array_equal(again[0], first[1])
    batcher.encode_queries(["职工"])  # pushed out by 劳模 (2 kept): encoded again
    assert inner.texts[-1] == "职工"
    assert BatchingEncoder(FakeEncoder(), recent=0).encode_queries(["工会"]).shape == (1, 64)


class OverlapEncoder(FakeEncoder):
    """Counts how many callers are inside encode_passages at once (each stays until two were in together)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = 0
        self.most = 0
        self._count = threading.Condition()

    def encode_passages(self, texts, show_progress=False):
        with self._count:
            self.inside += 1
            self.most = max(self.most, self.inside)
            self._count.notify_all()
            # stay until a second caller has been inside at once (or 2 s): the bound is reached however the
            # threads are scheduled, and a caller past it would raise `most` above it
            self._count.wait_for(lambda: self.most >= 2, timeout=2.0)
        time.sleep(0.05)
        try:
            return super().encode_passages(texts, show_progress)
        finally:
            with self._count:
                self.inside -= 1


def test_concurrent_callers_passages_are_encoded_a_bounded_number_at_a_time():
    inner = OverlapEncoder()
    encoder = BatchingEncoder(inner)
    texts = [[f"第{n}篇第{i}段" for i in range(3)] for n in range(6)]
    out: dict[int, np.ndarray] = {}
    together = threading.Barrier(6)  # every caller asks at the same moment

    def call(n: int) -> None:
        together.wait()
        out[n] = encoder.encode_passages(texts[n])

    threads = [threading.Thread(target=call, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert inner.most == WRITE_PASSES == 2  # six callers, each inside a while: the bound is reached, never passed
    for n in range(6):  # each caller got its own rows
        assert np.allclose(out[n], FakeEncoder().encode_passages(texts[n]))
