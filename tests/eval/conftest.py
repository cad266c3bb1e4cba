"""A tiny BEIR dataset (three documents, four queries, one unjudged) shared by the eval tests."""

import json

import pytest


@pytest.fixture
def dataset(tmp_path):
    folder = tmp_path / "tiny-beir"
    (folder / "qrels").mkdir(parents=True)
    docs = [
        {"_id": "d1", "title": "工匠学院", "text": "工匠学院直通车开到生产一线。\n讲师团为职工充电赋能。"},
        {"_id": "d2", "title": "驿站", "text": "工会为外卖配送员建起暖心驿站。"},
        {"_id": "d3", "title": "游戏", "text": "遊戲由韓國公司開發與發行。"},
    ]
    queries = [{"_id": "q1", "text": "讲师团为谁充电"}, {"_id": "q2", "text": "外卖配送员驿站"},
               {"_id": "q3", "text": "游戏由谁开发"}, {"_id": "q4", "text": "没有判断的问题"}]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td3\t1\n")
    return folder
