"""Arranging a ranking: one result per article, newest first, and facet counts (pure functions)."""

from hypothesis import given
from hypothesis import strategies as st

from index.models import article_id_of
from search.views.arrange import by_article, by_date, date_key
from search.views.facets import facet_counts, month_of
from search.views.view import View, arrange

RANKED = [("a.p000", 0.9), ("b.p001", 0.8), ("a.p002", 0.7), ("c.p000", 0.7), ("b.p000", 0.5), ("a.p001", 0.4),
          ("a.p003", 0.3)]
DATES = {"a": "2024-12-10", "b": None, "c": "2025-01-03"}


def date_of(pid: str) -> str | None:
    return DATES[article_id_of(pid)]


def test_articles_rank_by_their_best_paragraph_with_at_most_three_of_theirs():
    groups = by_article(RANKED, article_id_of, 3)
    assert [(g.article_id, g.score) for g in groups] == [("a", 0.9), ("b", 0.8), ("c", 0.7)]
    assert groups[0].paragraphs == [("a.p000", 0.9), ("a.p002", 0.7), ("a.p001", 0.4)]
    assert groups[1].paragraphs == [("b.p001", 0.8), ("b.p000", 0.5)]


def test_newest_first_undated_last_ties_keep_relevance():
    assert by_date(RANKED, date_of) == [("c.p000", 0.7), ("a.p000", 0.9), ("a.p002", 0.7), ("a.p001", 0.4),
                                        ("a.p003", 0.3), ("b.p001", 0.8), ("b.p000", 0.5)]


def test_date_key_orders_full_partial_yearless_and_missing_dates():
    dates = ["--12-18", None, "2024-12-10", "2025-01", "2024-12", "2023-05-01", "", "不详"]
    assert sorted(dates, key=date_key) == ["2025-01", "2024-12", "2024-12-10", "2023-05-01", "--12-18", None, "",
                                           "不详"]


@given(st.lists(st.tuples(st.sampled_from("abcde"), st.integers(0, 5), st.floats(0, 1)), max_size=30, unique_by=lambda t: t[:2]))
def test_grouping_keeps_every_article_once_best_first(rows):
    ranked = [(f"{a}.p{i:03d}", s) for a, i, s in rows]
    groups = by_article(ranked, article_id_of, 2)
    assert sorted(g.article_id for g in groups) == sorted({article_id_of(p) for p, _ in ranked})
    assert [(-g.score, g.article_id) for g in groups] == sorted((-g.score, g.article_id) for g in groups)
    for g in groups:
        best = max(s for p, s in ranked if article_id_of(p) == g.article_id)
        assert g.score == best and len(g.paragraphs) <= 2 and g.paragraphs[0][1] == best


def test_month_of_full_partial_and_yearless_dates():
    assert [month_of(d) for d in ("2024-12-10", "2024-12", "--12-18", None, "")] == \
        ["2024-12", "2024-12", "undated", "undated", "undated"]


def test_facets_count_each_result_once_most_frequent_first():
    sources = {"a": "p1.txt", "b": "p2.txt", "c": "p1.txt"}
    ids = [pid for pid, _ in RANKED]
    facets = facet_counts(ids, ("source", "month"), lambda pid: sources[article_id_of(pid)], date_of)
    assert facets == {"source": [("p1.txt", 5), ("p2.txt", 2)],
                      "month": [("2024-12", 4), ("undated", 2), ("2025-01", 1)]}


def test_view_by_article_and_date_counts_articles():
    arranged = arrange(RANKED, View("article", "date", ("month",)), article_id_of, date_of, lambda pid: "s")
    assert [g.article_id for g in arranged.groups] == ["c", "a", "b"] and arranged.total == 3
    assert arranged.facets == {"month": [("2024-12", 1), ("2025-01", 1), ("undated", 1)]}
