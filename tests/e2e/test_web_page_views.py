"""The search page's views in a real headless Chromium against a real server over a tiny index (fake encoder):
articles or paragraphs, newest first, facets, related stories, copies of a story."""

from __future__ import annotations

import httpx
import pytest

from chromium import require_browser
from e2e.page_driver import (article_ids, choose, choose_mode, search, shoot, text_of, url_params, wait_for_state,
                             wait_until)
from e2e.search_page import CORPUS, DATES, SOURCES

pytestmark = pytest.mark.e2e

require_browser()
from selenium.webdriver.common.by import By  # noqa: E402


def test_articles_by_default_paragraphs_on_the_switch(page):
    choose_mode(page, "关键词")
    search(page, "职工")
    wait_for_state(page, "results", mode="bm25", group="article")
    articles = article_ids(page)
    assert len(articles) == len(set(articles)) == 10 and "篇文章" in text_of(page, "status")
    # an article with both paragraphs matching shows the second under the first
    both = page.find_elements(By.CSS_SELECTOR, "#hits > li .also li")
    assert both and all("职工" in li.text for li in both)
    assert "group" not in url_params(page)
    shoot(page, "desktop-articles.png")

    choose(page, "group", "按段落")
    wait_for_state(page, "results", mode="bm25", group="paragraph")
    assert url_params(page)["group"] == "paragraph" and "个段落" in text_of(page, "status")
    paragraphs = [li.get_attribute("data-article-id") for li in page.find_elements(By.CSS_SELECTOR, "#hits > li")]
    assert len(paragraphs) == 10 and len(set(paragraphs)) < 10  # paragraphs of one article, side by side
    assert not page.find_elements(By.CSS_SELECTOR, "#hits > li .also li")


def test_newest_first_on_the_sort_switch(page):
    choose_mode(page, "关键词")
    search(page, "职工")
    wait_for_state(page, "results", sort="relevance")
    choose(page, "sort", "最新")
    wait_for_state(page, "results", sort="date")
    assert url_params(page)["sort"] == "date" and "最新在前" in text_of(page, "status")
    dates = [el.text for el in page.find_elements(By.CSS_SELECTOR, "#hits .hit-date")]
    assert dates and dates == sorted(dates, reverse=True) and dates[0] == DATES[1]
    shoot(page, "desktop-sorted-by-date.png")


def test_a_facet_click_filters_and_a_second_click_clears(page):
    choose_mode(page, "关键词")
    search(page, "职工")
    wait_for_state(page, "results", mode="bm25")
    sources = {b.get_attribute("data-value"): b for b in
               page.find_elements(By.CSS_SELECTOR, "#facets [data-facet=source] button.facet-value")}
    assert set(sources) == set(SOURCES)
    sources[SOURCES[1]].click()
    wait_until(page, lambda d: url_params(d).get("source") == SOURCES[1], "source in the URL")
    wait_for_state(page, "results")
    assert {el.text for el in page.find_elements(By.CSS_SELECTOR, "#hits .hit-source")} == {SOURCES[1]}
    active = page.find_element(By.CSS_SELECTOR, "#facets [data-facet=source] .facet-value.active")
    assert active.get_attribute("aria-pressed") == "true"
    shoot(page, "desktop-facet-source.png")
    active.click()
    wait_until(page, lambda d: "source" not in url_params(d), "the source filter cleared")

    wait_for_state(page, "results")
    page.find_element(By.CSS_SELECTOR, "#facets [data-facet=month] button.facet-value[data-value='2026-01']").click()
    wait_until(page, lambda d: url_params(d).get("date_from") == "2026-01-01"
               and url_params(d).get("date_to") == "2026-01-31", "the month's bounds in the URL")
    assert page.find_element(By.ID, "date-from").get_attribute("value") == "2026-01-01"


def test_related_stories_under_an_opened_article(page, page_server):
    choose_mode(page, "关键词")
    search(page, "暖心驿站")
    wait_for_state(page, "results", mode="bm25")
    hit = page.find_element(By.CSS_SELECTOR, "#hits > li")
    expected = httpx.get(f"{page_server}/articles/{hit.get_attribute('data-article-id')}/related").json()["related"]
    hit.find_element(By.CSS_SELECTOR, ".more").click()
    wait_until(page, lambda d: hit.find_elements(By.CSS_SELECTOR, ".related details"), "相关报道")
    assert hit.find_element(By.CSS_SELECTOR, ".related h4").text == "相关报道"
    items = hit.find_elements(By.CSS_SELECTOR, ".related details")
    assert [d.get_attribute("data-article-id") for d in items] == [r["article_id"] for r in expected]
    items[0].find_element(By.TAG_NAME, "summary").click()
    wait_until(page, lambda d: items[0].find_elements(By.CSS_SELECTOR, "ol.paragraphs > li"), "the related article")
    first = httpx.get(f"{page_server}/articles/{expected[0]['article_id']}").json()
    assert [li.text for li in items[0].find_elements(By.CSS_SELECTOR, "ol.paragraphs > li")] == \
        [p["text"] for p in first["paragraphs"]]
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", items[0])
    shoot(page, "desktop-related.png")


def test_copies_of_a_story_show_once_and_the_switch_shows_them_all(page):
    choose_mode(page, "关键词")
    search(page, "冰雪运动")
    wait_for_state(page, "results", mode="bm25")
    pair = {f"w{len(CORPUS) - 2:02d}", f"w{len(CORPUS) - 1:02d}"}

    def shown(d) -> list[str]:
        return [a for a in (li.get_attribute("data-article-id") for li in d.find_elements(By.CSS_SELECTOR, "#hits > li"))
                if a in pair]

    assert len(shown(page)) == 1
    button = page.find_element(By.CSS_SELECTOR, "#hits > li .similar")
    assert button.is_displayed() and button.text == "另有 1 篇相似报道"
    shoot(page, "desktop-similar.png")
    button.click()
    wait_until(page, lambda d: url_params(d).get("dedup") == "false", "dedup=false in the URL")
    wait_until(page, lambda d: set(shown(d)) == pair, "both copies")
    page.find_element(By.CSS_SELECTOR, "#hits > li .similar").click()  # 合并相似报道
    wait_until(page, lambda d: "dedup" not in url_params(d), "dedup back to its default")
    wait_until(page, lambda d: len(shown(d)) == 1, "one copy again")
