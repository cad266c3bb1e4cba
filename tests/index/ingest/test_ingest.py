"""Sources -> articles: JSONL, BEIR (folder or file), page folders, and clear errors."""

import json

import pytest

from index.ingest.sources import IngestError, read_source, read_sources
from index.ingest.paragraphs import split_article


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_articles_with_metadata(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [
        {"id": "x1", "title": "标题", "text": "第一段。\n\n第二段。", "date": "2024-12-10", "section": "要闻"},
    ])
    [article] = read_source(path)
    assert article.paragraphs == ("第一段。", "第二段。")
    assert article.date == "2024-12-10" and article.metadata == {"section": "要闻"}
    assert [p.id for p in split_article(article)] == ["x1.p000", "x1.p001"]


def test_beir_folder_and_file(tmp_path):
    write_jsonl(tmp_path / "corpus.jsonl", [{"_id": "d1", "title": "T", "text": "正文"}])
    assert [a.id for a in read_source(tmp_path)] == ["d1"]
    assert [a.id for a in read_source(tmp_path / "corpus.jsonl")] == ["d1"]


def test_pages_folder_reads_every_page():
    articles = read_source(__import__("pathlib").Path(__file__).resolve().parents[3] / "seeds")
    assert len(articles) == 39
    assert len({a.id for a in articles}) == 39


@pytest.mark.parametrize("line,message", [
    ("{not json", "line 1: not valid JSON"),
    ('["a list"]', "expected a JSON object"),
    ('{"title": "no id", "text": "x"}', 'missing "id"'),
    ('{"id": "a", "text": 5}', "'text' must be a string"),
])
def test_bad_jsonl_names_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(IngestError, match=message):
        read_source(path)


def test_missing_and_unknown_sources(tmp_path):
    with pytest.raises(IngestError, match="no such file"):
        read_source(tmp_path / "missing.jsonl")
    (tmp_path / "data.csv").write_text("a,b")
    with pytest.raises(IngestError, match="unknown kind"):
        read_source(tmp_path / "data.csv")


def test_later_article_with_same_id_replaces_earlier(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [{"id": "x", "title": "旧", "text": "旧文"}])
    b = write_jsonl(tmp_path / "b.jsonl", [{"id": "x", "title": "新", "text": "新文"}])
    [article] = read_sources([a, b])
    assert article.title == "新"
