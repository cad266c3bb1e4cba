"""A segment's articles read by id from the mapped file, against the articles that were written."""

import pytest

from index.models import Article
from index.store.docs.article_map import ArticleMap
from index.store.docs.docstore import ARTICLES_FILE, DocStore
from index.store.docs.json_lines import LinesError

ARTICLES = [Article("a", "标题", ("第一段。", "第二段。"), source="第3版", date="2025-03-01", captions=("图",)),
            Article('b"q\\', "空", ()),
            Article("文章", "题", ("一段。",), metadata={"url": "u"})]
IDS = [a.id for a in ARTICLES]


def test_articles_are_read_by_id_without_parsing_to_count_or_test(tmp_path):
    DocStore.build(ARTICLES, []).save(tmp_path)
    found = ArticleMap.open(tmp_path / ARTICLES_FILE, IDS)
    assert list(found) == IDS and len(found) == 3 and "a" in found and "c" not in found
    assert [found[aid] for aid in IDS] == ARTICLES and dict(found.items()) == {a.id: a for a in ARTICLES}
    with pytest.raises(KeyError):
        found["c"]
    assert found.get("c") is None


def test_ids_in_another_order_or_unknown_are_read_from_the_lines(tmp_path):
    DocStore.build(ARTICLES, []).save(tmp_path)
    assert [a.id for a in ArticleMap.open(tmp_path / ARTICLES_FILE, None).values()] == IDS
    reordered = ArticleMap.open(tmp_path / ARTICLES_FILE, IDS[::-1])
    assert list(reordered) == IDS[::-1] and reordered["a"] == ARTICLES[0]
    with pytest.raises(LinesError, match="not the same articles"):
        ArticleMap.open(tmp_path / ARTICLES_FILE, IDS[:2])
