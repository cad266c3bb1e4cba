"""group=article, sort=date and facets through the API, on a tiny real index of dated articles (fake encoder)."""

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from index.builder import build_index
from index.models import Article
from index.tokenize import tokenizer_from

DATED = [
    Article("old", "工会为职工办实事", ("工会为职工送温暖，职工很高兴。", "工会走访一线职工。", "职工之家建起来了。",
                                  "工会职工书屋开放。"), source="p1.txt", date="2023-05-01"),
    Article("new", "工会服务外卖骑手", ("工会为外卖骑手建驿站。", "骑手在驿站休息。"), source="p2.txt", date="2025-01-03"),
    Article("mid", "工会培训职工", ("工会组织职工技能培训。",), source="p1.txt", date="2024-12-10"),
    Article("yearless", "工会慰问", ("工会慰问环卫职工。",), source="p2.txt", date="--12-18"),
    Article("undated", "职工运动会", ("工会举办职工运动会。",), source="p3.txt"),
]


@pytest.fixture
def client(settings, fake_encoder):
    build_index(settings.index_dir, DATED, tokenizer_from(settings), fake_encoder, ["dated"], quiet=True)
    with TestClient(create_app(settings, encoder=fake_encoder)) as test_client:
        yield test_client


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_one_result_per_article_with_its_best_paragraphs(client, mode):
    body = client.get("/search", params={"q": "工会 职工", "mode": mode, "group": "article", "k": 10}).json()
    ids = [a["article_id"] for a in body["articles"]]
    assert body["group"] == "article" and body["hits"] == [] and len(ids) == len(set(ids)) == body["total"]
    assert [a["rank"] for a in body["articles"]] == list(range(1, len(ids) + 1))
    scores = [a["score"] for a in body["articles"]]
    assert scores == sorted(scores, reverse=True)
    for found in body["articles"]:
        assert 1 <= len(found["hits"]) <= 3 and {h["article_id"] for h in found["hits"]} == {found["article_id"]}
        assert found["score"] == found["hits"][0]["score"] == max(h["score"] for h in found["hits"])
    old = next(a for a in body["articles"] if a["article_id"] == "old")
    assert len(old["hits"]) == 3  # four paragraphs match: the best three are shown


def test_article_pages_count_articles(client):
    every = client.get("/search", params={"q": "工会 职工", "mode": "bm25", "group": "article", "k": 5}).json()
    second = client.post("/search", json={"q": "工会 职工", "mode": "bm25", "group": "article", "k": 1,
                                          "offset": 1}).json()
    assert second["total"] == every["total"] == 5
    assert [a["article_id"] for a in second["articles"]] == [every["articles"][1]["article_id"]]
    assert second["articles"][0]["rank"] == 2


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_newest_first_year_less_then_undated_last(client, mode):
    body = client.get("/search", params={"q": "工会 职工", "mode": mode, "sort": "date", "group": "article"}).json()
    assert [a["article_id"] for a in body["articles"]] == ["new", "mid", "old", "yearless", "undated"]
    hits = client.get("/search", params={"q": "工会", "mode": mode, "sort": "date", "k": 20}).json()["hits"]
    dates = [h["date"] or "" for h in hits]
    assert dates[:1] == ["2025-01-03"] and dates[-1] == ""
    old = [h["score"] for h in hits if h["article_id"] == "old"]
    assert old == sorted(old, reverse=True)  # one date: relevance order


def test_facets_count_the_pool_and_say_what_it_was(client):
    body = client.get("/search", params={"q": "工会", "mode": "bm25", "facets": "source,month"}).json()
    assert body["pool"]["what"] == "every match" and body["pool"]["matches"] == body["total"]
    assert sum(v["count"] for v in body["facets"]["source"]) == body["total"]
    assert body["facets"]["source"][0] == {"value": "p1.txt", "count": 5}
    months = {v["value"]: v["count"] for v in body["facets"]["month"]}
    assert months == {"2023-05": 4, "2025-01": 2, "2024-12": 1, "undated": 2}  # a title match counts every paragraph
    grouped = client.get("/search", params={"q": "工会", "mode": "hybrid", "group": "article", "facets": "month"}).json()
    assert sum(v["count"] for v in grouped["facets"]["month"]) == grouped["total"] == 5
    assert "each leg's top" in grouped["pool"]["what"]
    plain = client.get("/search", params={"q": "工会"}).json()
    assert plain["facets"] is None and plain["pool"] is None and plain["articles"] is None


@pytest.mark.parametrize("params,named", [
    ({"facets": "author"}, "source, month"),
    ({"group": "page"}, "group"),
    ({"sort": "newest"}, "sort"),
])
def test_bad_view_input_is_422_naming_the_choices(client, params, named):
    response = client.get("/search", params={"q": "工会", **params})
    assert response.status_code == 422 and named in response.json()["message"]


def test_explain_with_article_results(client):
    body = client.get("/search", params={"q": "工会 职工", "mode": "bm25", "group": "article", "explain": "true"}).json()
    for found in body["articles"]:
        for hit in found["hits"]:
            assert hit["explain"]["score"] == pytest.approx(hit["score"], abs=1e-6)
            assert hit["explain"]["bm25"]["rank"] >= 1
