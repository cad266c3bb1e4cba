"""Judging: each grade appended durably to the qrels, positions checked, one judge per dataset."""

from __future__ import annotations

import pytest

from eval.datasets import load_dataset, read_qrels
from eval.judging import Judging, JudgeBusyError, StaleActionError, append_grade
from eval.pool import PoolItem


def items() -> list[PoolItem]:
    return [PoolItem("q1", "讲师团为谁充电", "d2", "驿站", "工会为外卖配送员建起暖心驿站。"),
            PoolItem("q1", "讲师团为谁充电", "d1", "工匠学院", "已有评分"),  # judged in the dataset already
            PoolItem("q4", "没有判断的问题", "d3", "游戏", "遊戲由韓國公司開發與發行。")]


def test_append_grade_writes_a_header_to_a_new_file_and_mends_a_missing_newline(tmp_path):
    path = tmp_path / "test.tsv"
    append_grade(path, "q", "d", 2)
    assert path.read_text() == "query-id\tcorpus-id\tscore\nq\td\t2\n"
    path.write_text("query-id\tcorpus-id\tscore\nq\td\t2")  # a hand edit without the last newline
    append_grade(path, "q", "d", 0)
    assert read_qrels(path) == {"q": {"d": 0}}  # the later line wins
    with pytest.raises(ValueError, match="tabs or line breaks"):
        append_grade(path, "q\t1", "d", 1)


def test_grades_go_to_the_qrels_at_once_and_judged_pairs_are_passed_over(dataset):
    judging = Judging.of_dataset(dataset, items())
    try:
        assert judging.state()["position"] == 0 and judging.state()["graded"] == 1  # q1/d1 is in the qrels
        state = judging.grade(0, 2)
        assert read_qrels(dataset / "qrels" / "test.tsv")["q1"] == {"d1": 1, "d2": 2}
        assert state["position"] == 2 and state["item"]["doc_id"] == "d3"  # d1, judged, passed over
        with pytest.raises(StaleActionError):
            judging.grade(0, 1)  # a second tab still showing the first item
        state = judging.back(2)
        assert state["position"] == 1 and state["grade"] == 1  # the judged one, with its grade, when gone back to
        judging.grade(1, 0)  # a change of mind: a later line
        assert load_dataset(dataset).qrels["q1"]["d1"] == 0
        state = judging.skip(2)  # the last item skipped: the first one still ungraded comes back (itself here)
        assert state["position"] == 2 and not state["done"]
        with pytest.raises(ValueError, match="grade 3"):
            judging.grade(2, 3)
        state = judging.grade(2, 1)
        assert state["done"] and state["item"] is None and state["given"] == 3
    finally:
        judging.close()


def test_one_judge_per_dataset_and_a_new_session_starts_where_the_last_left_off(dataset):
    first = Judging.of_dataset(dataset, items())
    with pytest.raises(JudgeBusyError, match="another `zhsearch judge`"):
        Judging.of_dataset(dataset, items())
    first.grade(0, 1)
    first.close()
    again = Judging.of_dataset(dataset, items())
    try:
        assert again.state()["item"]["doc_id"] == "d3" and again.state()["graded"] == 2
    finally:
        again.close()


def test_a_failed_append_leaves_no_torn_line(tmp_path, monkeypatch):
    import os

    path = tmp_path / "test.tsv"
    append_grade(path, "q", "d", 2)
    before = path.read_bytes()
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(OSError):
        append_grade(path, "q", "e", 1)
    assert path.read_bytes() == before
