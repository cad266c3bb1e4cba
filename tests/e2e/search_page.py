"""The search page's tests' shared parts, loaded as a pytest plugin (tests/conftest.py): a tiny corpus over two
sources and two dates, a real server over it (the fake encoder) and a headless Chromium, one each per test module.
Selenium is imported only when a browser is started: without it the page's tests skip (e2e/chromium.py)."""

from __future__ import annotations

import pytest

from index.models import Article

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
def page_server(tmp_path_factory) -> str:
    """A real uvicorn server in a thread over the tiny index; its base URL."""
    from conftest import CACHE_DIR
    from fakes import FakeEncoder
    from index.builder import build_index
    from index.settings import Settings
    from index.tokenize import tokenizer_from
    from live_server import serving

    settings = Settings(index_dir=tmp_path_factory.mktemp("web") / "index", cache_dir=CACHE_DIR)
    build_index(settings.index_dir, CORPUS, tokenizer_from(settings), FakeEncoder(), list(SOURCES), quiet=True)
    with serving(settings, FakeEncoder(), "web-page-server") as base:
        yield base


@pytest.fixture(scope="module")
def page_browser():
    from chromium import chromium, require_browser

    require_browser()
    with chromium() as driver:
        yield driver


@pytest.fixture
def page(page_browser, page_server):
    """The browser on a fresh search page at desktop size."""
    from e2e.page_driver import wait_for_state

    page_browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                 {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})
    page_browser.get(f"{page_server}/")
    wait_for_state(page_browser, "empty")
    return page_browser
