"""The synonym file as the service meets it: rules in /stats, a broken file a 503 that names it."""

from fastapi.testclient import TestClient

from api.app import create_app
from index.builder import build_index
from index.tokenize import tokenizer_from


def serve(settings, articles, encoder):
    build_index(settings.index_dir, articles, tokenizer_from(settings), encoder, ["tiny"], quiet=True)
    return TestClient(create_app(settings, encoder=encoder))


def test_stats_names_the_file_and_its_rules(settings, tiny_articles, fake_encoder, tmp_path):
    file = tmp_path / "syn.txt"
    file.write_text("送餐小哥, 外卖配送员\n一线职工 => 一线工人\n", encoding="utf-8")
    with serve(settings.model_copy(update={"synonyms": file}), tiny_articles, fake_encoder) as client:
        assert client.get("/stats").json()["synonyms"] == {"file": str(file), "rules": 3, "problem": ""}
        hits = client.get("/search", params={"q": "送餐小哥", "mode": "bm25"}).json()["hits"]
        assert hits and hits[0]["article_id"] == "a2"


def test_a_broken_file_is_a_503_naming_the_line(settings, tiny_articles, fake_encoder, tmp_path):
    file = tmp_path / "syn.txt"
    file.write_text("只有一个词\n", encoding="utf-8")
    with serve(settings.model_copy(update={"synonyms": file}), tiny_articles, fake_encoder) as client:
        response = client.get("/search", params={"q": "职工"})
        assert response.status_code == 503 and "line 1" in response.json()["message"]
