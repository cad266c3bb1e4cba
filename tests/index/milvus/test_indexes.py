"""Waiting for a collection's indexes: at once when built, backing off while Milvus builds, failures named."""

import pytest

from index.milvus.connection import MilvusUnavailableError
from index.milvus.indexes import FIRST_PAUSE, LONGEST_PAUSE, wait_for_indexes


class Building:
    """A Milvus connection whose indexes report `states[index]` one look after another (the last one repeats)."""

    location = "fake:19530#c"

    def __init__(self, states: dict[str, list[str]], timeout: float = 30) -> None:
        self.states = states
        self.timeout = timeout
        self.looks: dict[str, int] = {index: 0 for index in states}

    def call(self, what, method, *args):
        if method == "list_indexes":
            return list(self.states)
        assert method == "describe_index"
        index = args[1]
        seen = self.states[index][min(self.looks[index], len(self.states[index]) - 1)]
        self.looks[index] += 1
        return {"index_name": index, "state": seen}


def test_built_indexes_are_read_once_and_never_slept_on():
    conn = Building({"vector": ["Finished"], "source": ["Finished"]})
    pauses = []
    assert wait_for_indexes(conn, "c_paragraphs", pauses.append) == []
    assert pauses == [] and conn.looks == {"vector": 1, "source": 1}


def test_indexes_being_built_are_looked_at_again_after_doubling_pauses():
    conn = Building({"vector": ["Unissued", "InProgress", "InProgress"] + ["InProgress"] * 10 + ["Finished"],
                     "story": ["InProgress", "Finished"]})
    pauses = []
    assert wait_for_indexes(conn, "c_paragraphs", pauses.append) == []
    assert conn.looks == {"vector": 14, "story": 2}
    assert pauses[:3] == [FIRST_PAUSE, 2 * FIRST_PAUSE, 4 * FIRST_PAUSE]
    assert max(pauses) == LONGEST_PAUSE and len(pauses) == 13


def test_an_index_milvus_fails_to_build_is_named_and_the_others_waited_for():
    conn = Building({"bands": ["InProgress", "Failed"], "story": ["InProgress", "InProgress", "Finished"]})
    assert wait_for_indexes(conn, "c_articles", lambda pause: None) == ["bands"]
    assert conn.looks == {"bands": 2, "story": 3}


def test_an_index_still_building_after_the_timeout_is_a_clear_error():
    conn = Building({"vector": ["InProgress"]}, timeout=0)
    with pytest.raises(MilvusUnavailableError, match=r"fake:19530#c did not build the indexes vector of c_sentences within 0 s"):
        wait_for_indexes(conn, "c_sentences", lambda pause: None)
