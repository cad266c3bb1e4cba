"""Related stories on a tiny real index (fake encoder): closest first, never the article itself or a copy of it."""

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from index.builder import build_index
from index.models import Article
from index.tokenize import tokenizer_from
from search.engine import open_searcher

STORIES = [
    Article("rider", "外卖骑手的暖心驿站", ("工会为外卖骑手建起暖心驿站，提供热水和充电。", "骑手在驿站歇脚。")),
    Article("rider2", "快递员驿站开张", ("工会为快递员和外卖骑手建起驿站，冬天有热水。",)),
    Article("copy", "转载：外卖骑手的暖心驿站", ("工会为外卖骑手建起暖心驿站，提供热水和充电。", "骑手在驿站歇脚。")),
    Article("craft", "工匠学院开课", ("工匠学院为一线职工开设数控技能课程。",)),
    Article("sport", "职工运动会", ("职工运动会在体育馆开幕，拔河比赛最受欢迎。",)),
]


@pytest.fixture
def indexed(settings, fake_encoder):
    build_index(settings.index_dir, STORIES, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    return settings


def test_closest_first_never_itself_nor_its_exact_copy(indexed, fake_encoder):
    searcher = open_searcher(indexed, fake_encoder)
    found = searcher.related("rider", 3)
    ids = [aid for aid, _ in found]
    assert ids[0] == "rider2" and "rider" not in ids and "copy" not in ids and len(ids) == 3
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    assert "rider" not in [aid for aid, _ in searcher.related("copy", 4)]
    with pytest.raises(KeyError):
        searcher.related("nope", 3)


def test_related_over_http(indexed, fake_encoder):
    with TestClient(create_app(indexed, encoder=fake_encoder)) as client:
        body = client.get("/articles/rider/related", params={"k": 2}).json()
        assert body["article_id"] == "rider" and [r["article_id"] for r in body["related"]][:1] == ["rider2"]
        assert set(body["related"][0]) >= {"article_id", "title", "source", "date", "score"}
        assert client.get("/articles/nope/related").status_code == 404
        assert client.get("/articles/rider/related", params={"k": 21}).status_code == 422
