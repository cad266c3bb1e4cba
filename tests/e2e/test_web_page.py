"""The search page in a real headless Chromium (Selenium) against a real server over a tiny index (fake encoder):
searching, highlights, paging, modes, links, explanations, errors, filters, the phone layout."""

from __future__ import annotations

import time

import httpx
import pytest

from chromium import require_browser
from e2e.page_driver import (as_phone, choose_mode, hit_ids, overflow_px, search, shoot, text_of, url_params,
                             wait_for_state, wait_until)
from e2e.search_page import CORPUS, DATES, SOURCES

pytestmark = pytest.mark.e2e

require_browser()
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402


def test_empty_state_invites_a_query(page):
    assert page.switch_to.active_element.get_attribute("id") == "q"
    examples = [b.text for b in page.find_elements(By.CSS_SELECTOR, "#empty .example")]
    assert "送餐小哥春节怎么过" in examples and len(examples) >= 2
    assert page.find_element(By.CSS_SELECTOR, "details.syntax summary").text
    assert page.find_element(By.ID, "date-from").get_attribute("type") == "date"
    assert page.find_element(By.ID, "date-to").get_attribute("type") == "date"
    assert not page.find_element(By.ID, "article-chip").is_displayed()
    wait_until(page, lambda d: f"{len(CORPUS)} 篇文章" in text_of(d, "health"), "the index size from /health")
    shoot(page, "desktop.png")
    as_phone(page)
    assert overflow_px(page) <= 0
    shoot(page, "phone.png")


def test_source_select_follows_stats(page, page_server):
    """The select is shown with the sources when /stats answers, hidden when it does not (yet)."""
    stats = httpx.get(f"{page_server}/stats")
    select = page.find_element(By.ID, "source-filter")
    if stats.status_code == 200 and stats.json().get("sources"):
        wait_until(page, lambda d: select.is_displayed(), "the source select")
        options = [o.get_attribute("value") for o in page.find_elements(By.CSS_SELECTOR, "#source option")]
        assert set(stats.json()["sources"]) <= set(options)
    else:
        time.sleep(0.3)  # /stats has been asked for by now
        assert not select.is_displayed()


def test_search_highlights_the_query_terms(page):
    search(page, "职工")
    wait_for_state(page, "results", mode="hybrid", offset="0")
    assert url_params(page) == {"q": "职工", "mode": "hybrid"}
    marks = [m.text for m in page.find_elements(By.CSS_SELECTOR, "#hits .hit-text mark")]
    assert marks and all(mark in "职工" for mark in marks), marks
    status = text_of(page, "status")
    assert "ms" in status and "共" in status
    first = page.find_element(By.CSS_SELECTOR, "#hits > li .hit-title")
    assert "score" in first.get_attribute("title")
    assert page.find_element(By.CSS_SELECTOR, "#hits > li .hit-position").text.startswith("第 ")
    shoot(page, "desktop-results.png")


def test_highlight_offsets_count_code_points(page):
    """The emoji before 职工 is two UTF-16 units but one code point: the mark must still cover 职工."""
    choose_mode(page, "关键词")
    search(page, "运动会 职工")
    wait_for_state(page, "results", mode="bm25")
    hit = page.find_element(By.CSS_SELECTOR, "#hits > li[data-paragraph-id='w15.p000'] .hit-text")
    assert hit.text.startswith("🎉职工运动会")
    marks = [m.text for m in hit.find_elements(By.TAG_NAME, "mark")]
    assert marks and marks[0].startswith("职工"), marks  # adjacent terms may come as one span
    assert page.execute_script("return arguments[0].firstChild.textContent", hit) == "🎉"


def test_paging_forward_back_and_history(page):
    choose_mode(page, "关键词")
    search(page, "职工")
    wait_for_state(page, "results", mode="bm25", offset="0")
    first_page = hit_ids(page)
    assert len(first_page) == 10
    assert text_of(page, "page-indicator").startswith("第 1 /")
    assert not page.find_element(By.ID, "prev").is_enabled()

    page.find_element(By.ID, "next").click()
    wait_for_state(page, "results", offset="10")
    second_page = hit_ids(page)
    assert second_page and not set(second_page) & set(first_page)
    assert text_of(page, "page-indicator").startswith("第 2 /")
    assert url_params(page)["page"] == "2"
    page.execute_script("document.getElementById('pager').scrollIntoView({block: 'end'})")
    shoot(page, "desktop-page2.png")

    page.find_element(By.ID, "prev").click()
    wait_for_state(page, "results", offset="0")
    assert hit_ids(page) == first_page

    page.back()  # to page 2 again
    wait_for_state(page, "results", offset="10")
    assert hit_ids(page) == second_page and text_of(page, "page-indicator").startswith("第 2 /")
    page.back()
    wait_for_state(page, "results", offset="0")
    assert "page" not in url_params(page)
    page.back()  # before the search: the empty state, an empty box
    wait_for_state(page, "empty")
    assert page.find_element(By.ID, "q").get_attribute("value") == ""


def test_switching_mode_searches_again(page):
    search(page, "送餐小哥")
    wait_for_state(page, "results", mode="hybrid")
    choose_mode(page, "语义")
    wait_for_state(page, "results", mode="dense")
    assert url_params(page)["mode"] == "dense"
    assert "语义" in text_of(page, "status")
    choose_mode(page, "关键词")
    wait_for_state(page, "results", mode="bm25")
    assert url_params(page) == {"q": "送餐小哥", "mode": "bm25"}


def test_a_linked_search_loads_from_the_url(page_browser, page_server):
    page_browser.get(f"{page_server}/?q=%E9%A9%BF%E7%AB%99&mode=bm25")  # 驿站
    wait_for_state(page_browser, "results", mode="bm25")
    assert page_browser.find_element(By.ID, "q").get_attribute("value") == "驿站"
    assert page_browser.find_element(By.CSS_SELECTOR, "input[name=mode][value=bm25]").is_selected()


def test_more_from_this_article_expands_and_collapses(page, page_server):
    choose_mode(page, "关键词")
    search(page, "暖心驿站")
    wait_for_state(page, "results", mode="bm25")
    hit = page.find_element(By.CSS_SELECTOR, "#hits > li")
    article = httpx.get(f"{page_server}/articles/{hit.get_attribute('data-article-id')}").json()
    more = hit.find_element(By.CSS_SELECTOR, ".more")
    more.click()
    body = hit.find_element(By.CSS_SELECTOR, ".article-body")
    wait_until(page, lambda d: body.find_elements(By.CSS_SELECTOR, "ol.paragraphs > li"), "the article's paragraphs")
    shown = [li.text for li in body.find_elements(By.CSS_SELECTOR, "ol.paragraphs > li")]
    assert shown == [p["text"] for p in article["paragraphs"]]
    assert body.find_element(By.CSS_SELECTOR, "li.current").text == hit.find_element(By.CSS_SELECTOR, ".hit-text").text
    assert more.get_attribute("aria-expanded") == "true"
    shoot(page, "desktop-article.png")
    more.click()
    assert not body.is_displayed() and more.get_attribute("aria-expanded") == "false"


def test_a_hit_s_score_is_explained_on_request(page, page_server):
    search(page, "职工 培训")
    wait_for_state(page, "results", mode="hybrid")
    hit = page.find_elements(By.CSS_SELECTOR, "#hits > li")[1]
    why = hit.find_element(By.CSS_SELECTOR, ".why")
    why.click()
    box = hit.find_element(By.CSS_SELECTOR, ".explain")
    wait_until(page, lambda d: box.find_elements(By.CSS_SELECTOR, "dl dt"), "the explanation")
    expected = httpx.get(f"{page_server}/search", params={"q": "职工 培训", "explain": "true"}).json()["hits"][1]["explain"]
    terms = [dt.text for dt in box.find_elements(By.CSS_SELECTOR, "dt")]
    assert terms[0].startswith("关键词") and "融合得分 fused" in terms and terms[-1] == "得分 score"
    details = [dd.text for dd in box.find_elements(By.CSS_SELECTOR, "dd")]
    assert details[-1] == f"{expected['score']:.4f}" and expected["why"] in " ".join(details)
    shoot(page, "desktop-explain.png")
    why.click()
    assert not box.is_displayed() and why.get_attribute("aria-expanded") == "false"


def test_no_results_state(page):
    choose_mode(page, "关键词")
    search(page, "量子引力")
    wait_for_state(page, "no-results")
    assert page.find_element(By.ID, "no-results").is_displayed()
    assert not page.find_element(By.ID, "results").is_displayed()


def test_api_errors_are_shown_with_their_message(page, page_server):
    long_query = "职" * 513
    expected = httpx.get(f"{page_server}/search", params={"q": long_query}).json()["message"]
    page.find_element(By.ID, "q").send_keys(long_query)  # no maxlength on the box: the API's 422 speaks
    page.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for_state(page, "error")
    assert "422" in text_of(page, "error-title")
    assert text_of(page, "error-message") == expected and expected.startswith("q:")
    shoot(page, "desktop-error.png")


def test_article_filter_chip(page, page_server):
    """'Only this article' shows a removable chip; runs once the page_server accepts article_id."""
    probe = httpx.get(f"{page_server}/search", params={"q": "职工", "mode": "bm25", "article_id": "w02"})
    if probe.status_code != 200:
        pytest.skip("/search does not take article_id yet")
    choose_mode(page, "关键词")
    search(page, "职工")
    wait_for_state(page, "results", mode="bm25")
    target = page.find_element(By.CSS_SELECTOR, "#hits > li")
    article_id, title = target.get_attribute("data-article-id"), target.find_element(By.CSS_SELECTOR, ".hit-title").text
    target.find_element(By.CSS_SELECTOR, ".only").click()
    wait_until(page, lambda d: url_params(d).get("article_id") == article_id, "article_id in the URL")
    wait_for_state(page, "results")
    assert {li.get_attribute("data-article-id") for li in page.find_elements(By.CSS_SELECTOR, "#hits > li")} \
        == {article_id}
    assert title in text_of(page, "article-chip")
    shoot(page, "desktop-article-filter.png")
    page.find_element(By.ID, "article-chip-remove").click()
    wait_until(page, lambda d: "article_id" not in url_params(d), "the chip removed")
    assert not page.find_element(By.ID, "article-chip").is_displayed()


def test_source_and_date_filters(page, page_server):
    """Filters go to /search and into the URL; runs once the page_server accepts them."""
    probe = httpx.get(f"{page_server}/search", params={"q": "职工", "source": SOURCES[0], "date_from": DATES[1]})
    if probe.status_code != 200 or "sources" not in httpx.get(f"{page_server}/stats").json():
        pytest.skip("/search does not take source and date filters yet")
    choose_mode(page, "关键词")
    search(page, "职工")
    wait_for_state(page, "results", mode="bm25")
    Select(page.find_element(By.ID, "source")).select_by_value(SOURCES[0])
    wait_until(page, lambda d: url_params(d).get("source") == SOURCES[0], "source in the URL")
    wait_for_state(page, "results")
    assert {li.text for li in page.find_elements(By.CSS_SELECTOR, "#hits .hit-source")} == {SOURCES[0]}

    Select(page.find_element(By.ID, "source")).select_by_value("")
    page.execute_script("arguments[0].value = arguments[1];"
                        "arguments[0].dispatchEvent(new Event('change', {bubbles: true}))",
                        page.find_element(By.ID, "date-from"), "2026-01-10")
    wait_until(page, lambda d: url_params(d).get("date_from") == "2026-01-10" and "source" not in url_params(d),
               "date_from in the URL")
    wait_for_state(page, "results")
    assert {li.text for li in page.find_elements(By.CSS_SELECTOR, "#hits .hit-source")} == {SOURCES[1]}  # dated 01-12


@pytest.mark.parametrize("width", [360, 375])
def test_phone_layout_does_not_overflow(page, width):
    as_phone(page, width)
    search(page, "外卖骑手的暖心驿站在哪里")
    wait_for_state(page, "results", mode="hybrid")
    page.find_element(By.CSS_SELECTOR, "#hits > li .more").click()
    wait_until(page, lambda d: d.find_elements(By.CSS_SELECTOR, "#hits > li ol.paragraphs"), "the article")
    assert overflow_px(page) <= 0
    if width == 375:
        page.execute_script("document.getElementById('status').scrollIntoView()")
        shoot(page, "phone-results.png")
    page.find_element(By.CSS_SELECTOR, "details.syntax summary").click()
    assert overflow_px(page) <= 0
