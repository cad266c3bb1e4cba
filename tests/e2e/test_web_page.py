"""The search page in a real headless Chromium (Selenium) against a real server over a tiny index (fake encoder)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from fakes import FakeEncoder
from conftest import CACHE_DIR
from live_server import serving
from chromium import SHOTS, WAIT_S, chromium, require_browser
from index.builder import build_index
from index.models import Article
from index.settings import Settings
from index.tokenize import tokenizer_from

pytestmark = pytest.mark.e2e

require_browser()
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


# (title, paragraphs); 27 articles over two pages, "职工" in well over 10 paragraphs so that bm25 pages.
STORIES = [
    ("工匠学院直通车开到生产一线", ("讲师团走进车间，为一线职工讲授数控加工技能。", "青年职工高阳说，这次培训特别解渴。")),
    ("外卖骑手的暖心驿站", ("工会为外卖骑手和快递员建起暖心驿站，提供热水和充电。", "驿站还设有药箱，骑手们累了可以歇歇脚。")),
    ("职工之家焕然一新", ("厂区职工之家新添了图书角和健身器材。", "下班后，不少职工来这里读书、打球。")),
    ("春节送温暖慰问困难职工", ("市总工会走访慰问困难职工家庭，送去米面油和慰问金。", "工会干部与职工拉家常，了解他们的急难愁盼。")),
    ("送餐小哥的除夕", ("除夕夜，外卖配送员仍在街头奔忙。", "社区为留守的配送员准备了热腾腾的饺子。")),
    ("技能竞赛点燃学习热情", ("全市职工技能竞赛吸引了三百多名选手参赛。", "获奖职工将获得技术等级晋升的机会。")),
    ("劳模工作室带徒传技", ("劳模工作室每月开设一次技术讲堂，面向全体职工开放。", "师傅带徒弟，手把手传授焊接绝活。")),
    ("新就业形态劳动者入会", ("快递员、网约车司机纷纷加入工会组织。", "入会后，他们可以享受法律援助和职工互助保障。")),
    ("书屋进车间", ("职工书屋把图书送到了生产班组。", "夜班工人也能在休息时翻几页书。")),
    ("线上培训平台上线", ("工会推出线上培训平台，职工用手机就能学习新技能。", "平台课程涵盖电工、护理和家政服务。")),
    ("户外劳动者服务站", ("环卫工人、骑手在服务站可以喝水、热饭。", "服务站由工会和社区共同运营。")),
    ("关爱女工健康", ("工会为一线职工开展免费健康体检。", "母婴室的设立方便了哺乳期的妈妈。")),
    ("技术工人待遇提升", ("企业提高了高级技工的津贴标准。", "职工说，技术越好，收入越高，学习更有劲头。")),
    ("安全生产培训进班组", ("安全员给一线职工讲解防护装备的正确用法。", "培训结束后进行了应急演练。")),
    ("快递小哥的技能证书", ("快递员参加职业技能培训，考取了证书。", "证书让他在加薪时更有底气。")),
    # The emoji sits before the highlighted term: one code point, two UTF-16 units.
    ("运动会开幕", ("🎉职工运动会在体育馆开幕，拔河比赛最受欢迎。", "各车间职工组队参赛，场面热烈。")),
    ("农民工工资保障", ("工会帮助农民工追讨被拖欠的工资。", "律师志愿者为劳动者提供免费咨询。")),
    ("疗休养向一线倾斜", ("优秀一线职工参加疗休养活动，放松身心。", "疗休养名额向劳模和技术骨干倾斜。")),
    ("工会法律援助", ("法律援助中心为职工讨回了加班费。", "劳动争议调解员耐心听取双方意见。")),
    ("网约车司机之家", ("网约车司机之家提供免费停车和休息区。", "司机们在这里交流跑车经验。")),
    ("食堂提质", ("企业改造职工食堂，菜品更加丰富。", "夜班职工也能吃上热乎饭菜。")),
    ("数字技能培训", ("工会联合高校开展数字技能培训。", "学员中有不少是转岗职工。")),
    ("骑手交通安全课", ("交警为外卖骑手讲授交通安全知识。", "骑手们承诺不闯红灯、不逆行。")),
    ("困难家庭子女助学", ("工会向困难职工子女发放助学金。", "受助学生写信感谢工会的帮助。")),
    ("工匠精神代代传", ("老工匠把几十年的经验写成了教材。", "年轻职工说，要把工匠精神传下去。")),
]
SOURCES = ("001_workers_daily.txt", "002_workers_daily.txt")
DATES = ("2026-01-05", "2026-01-12")
# A story and its reprint (an editor's line added, a few words changed): copies, shown once with "另有 1 篇相似报道".
SKATING = ("冰雪运动进校园活动在全市中小学启动，各校利用操场浇筑冰场，开设滑冰、冰壶和冰球课程，体育教师接受了专项培训，"
           "学生每周至少上一节冰上课。", "组织者表示，活动将持续整个冬季，并在春节前举办校际冰雪运动会。")
STORIES.append(("冰雪运动进校园", SKATING))
STORIES.append(("（转载）冰雪运动走进校园", ("本报讯 " + SKATING[0].replace("启动", "全面启动"), SKATING[1])))
CORPUS = [Article(f"w{n:02d}", title, paragraphs, source=SOURCES[n % 2], date=DATES[n % 2])
          for n, (title, paragraphs) in enumerate(STORIES)]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> str:
    """A real uvicorn server in a thread over the tiny index; its base URL."""
    settings = Settings(index_dir=tmp_path_factory.mktemp("web") / "index", cache_dir=CACHE_DIR)
    build_index(settings.index_dir, CORPUS, tokenizer_from(settings), FakeEncoder(), list(SOURCES), quiet=True)
    with serving(settings, FakeEncoder(), "web-page-server") as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


@pytest.fixture
def page(browser, server):
    """The browser on a fresh search page at desktop size."""
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})
    browser.get(f"{server}/")
    wait_for_state(browser, "empty")
    return browser


def wait_until(driver, condition, what: str):
    return WebDriverWait(driver, WAIT_S).until(lambda d: condition(d), message=f"waited for {what}")


def wait_for_state(driver, state: str, **attrs: str) -> None:
    """Until the page shows `state` (empty, results, no-results, error) and #results has `attrs`."""
    def ready(d) -> bool:
        if d.find_element(By.ID, "main").get_attribute("data-state") != state:
            return False
        results = d.find_element(By.ID, "results")
        return all(results.get_attribute(f"data-{name}") == value for name, value in attrs.items())
    wait_until(driver, ready, f"state {state} {attrs}")


def search(driver, query: str) -> None:
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys(query, Keys.ENTER)


def choose_mode(driver, label: str) -> None:
    driver.find_element(By.XPATH, f"//fieldset[contains(@class,'modes')]//label[span[text()='{label}']]").click()


def url_params(driver) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(driver.current_url).query).items()}


def hit_ids(driver) -> list[str]:
    return [li.get_attribute("data-paragraph-id") for li in driver.find_elements(By.CSS_SELECTOR, "#hits > li")]


def text_of(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def shoot(driver, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(SHOTS / name))


def as_phone(driver, width: int = 375, height: int = 812) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True})


def overflow_px(driver) -> int:
    """How far the page is wider than the viewport (0: nothing overflows horizontally)."""
    return driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")


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


def test_source_select_follows_stats(page, server):
    """The select is shown with the sources when /stats answers, hidden when it does not (yet)."""
    stats = httpx.get(f"{server}/stats")
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


def test_a_linked_search_loads_from_the_url(browser, server):
    browser.get(f"{server}/?q=%E9%A9%BF%E7%AB%99&mode=bm25")  # 驿站
    wait_for_state(browser, "results", mode="bm25")
    assert browser.find_element(By.ID, "q").get_attribute("value") == "驿站"
    assert browser.find_element(By.CSS_SELECTOR, "input[name=mode][value=bm25]").is_selected()


def test_more_from_this_article_expands_and_collapses(page, server):
    choose_mode(page, "关键词")
    search(page, "暖心驿站")
    wait_for_state(page, "results", mode="bm25")
    hit = page.find_element(By.CSS_SELECTOR, "#hits > li")
    article = httpx.get(f"{server}/articles/{hit.get_attribute('data-article-id')}").json()
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


def test_a_hit_s_score_is_explained_on_request(page, server):
    search(page, "职工 培训")
    wait_for_state(page, "results", mode="hybrid")
    hit = page.find_elements(By.CSS_SELECTOR, "#hits > li")[1]
    why = hit.find_element(By.CSS_SELECTOR, ".why")
    why.click()
    box = hit.find_element(By.CSS_SELECTOR, ".explain")
    wait_until(page, lambda d: box.find_elements(By.CSS_SELECTOR, "dl dt"), "the explanation")
    expected = httpx.get(f"{server}/search", params={"q": "职工 培训", "explain": "true"}).json()["hits"][1]["explain"]
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


def test_api_errors_are_shown_with_their_message(page, server):
    long_query = "职" * 513
    expected = httpx.get(f"{server}/search", params={"q": long_query}).json()["message"]
    page.find_element(By.ID, "q").send_keys(long_query)  # no maxlength on the box: the API's 422 speaks
    page.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for_state(page, "error")
    assert "422" in text_of(page, "error-title")
    assert text_of(page, "error-message") == expected and expected.startswith("q:")
    shoot(page, "desktop-error.png")


def test_article_filter_chip(page, server):
    """'Only this article' shows a removable chip; runs once the server accepts article_id."""
    probe = httpx.get(f"{server}/search", params={"q": "职工", "mode": "bm25", "article_id": "w02"})
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


def test_source_and_date_filters(page, server):
    """Filters go to /search and into the URL; runs once the server accepts them."""
    probe = httpx.get(f"{server}/search", params={"q": "职工", "source": SOURCES[0], "date_from": DATES[1]})
    if probe.status_code != 200 or "sources" not in httpx.get(f"{server}/stats").json():
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


def article_ids(driver) -> list[str]:
    return [li.get_attribute("data-article-id") for li in driver.find_elements(By.CSS_SELECTOR, "#hits > li")]


def choose(driver, group: str, label: str) -> None:
    driver.find_element(By.XPATH, f"//fieldset[contains(@class,'{group}')]//label[span[text()='{label}']]").click()


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


def test_related_stories_under_an_opened_article(page, server):
    choose_mode(page, "关键词")
    search(page, "暖心驿站")
    wait_for_state(page, "results", mode="bm25")
    hit = page.find_element(By.CSS_SELECTOR, "#hits > li")
    expected = httpx.get(f"{server}/articles/{hit.get_attribute('data-article-id')}/related").json()["related"]
    hit.find_element(By.CSS_SELECTOR, ".more").click()
    wait_until(page, lambda d: hit.find_elements(By.CSS_SELECTOR, ".related details"), "相关报道")
    assert hit.find_element(By.CSS_SELECTOR, ".related h4").text == "相关报道"
    items = hit.find_elements(By.CSS_SELECTOR, ".related details")
    assert [d.get_attribute("data-article-id") for d in items] == [r["article_id"] for r in expected]
    items[0].find_element(By.TAG_NAME, "summary").click()
    wait_until(page, lambda d: items[0].find_elements(By.CSS_SELECTOR, "ol.paragraphs > li"), "the related article")
    first = httpx.get(f"{server}/articles/{expected[0]['article_id']}").json()
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
