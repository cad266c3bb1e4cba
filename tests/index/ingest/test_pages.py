"""parse_page: the real seed pages split as read by hand, and one small page per layout rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.ingest.pages import parse_page

SEEDS = Path(__file__).resolve().parents[3] / "seeds"
PAGES = sorted(SEEDS.glob("*.txt"))
SENTENCE_END = "。！？!?…；;"


def parse_seed(name: str):
    return parse_page((SEEDS / name).read_text(encoding="utf-8"), name)


def ends_sentence(text: str) -> bool:
    core = text.rstrip("”’」』）)\"' ")
    return bool(core) and core[-1] in SENTENCE_END


# --- the real pages ---------------------------------------------------------------------------

def test_seed_pages_are_all_here():
    assert [p.name[:3] for p in PAGES] == ["000", "001", "002", "003", "004"]


@pytest.mark.parametrize("name,count", [
    ("000_5b8958093c4648a7.txt", 7),
    ("001_500ef03d0f46bb82.txt", 5),
    ("002_7155a4ac0a6710c1.txt", 10),
    ("003_3a721939992c0ea0.txt", 9),
    ("004_50f2d3aaf810ce71.txt", 8),
])
def test_article_count_per_page(name, count):
    assert len(parse_seed(name)) == count


def test_page_000_titles_and_subtitles():
    articles = parse_seed("000_5b8958093c4648a7.txt")
    assert [a.title for a in articles] == [
        "“工匠学院直通车”开到生产一线",
        "工会邀百万职工乐享冰雪",
        "全国工会新媒体账号交流展示活动举行",
        "八集系列纪录片《淬炼——百年工运在山西》播出",
        "搭建立体化素质提升平台",
        "泰安成立“一宫四馆”职工群众文化服务联盟",
        "“娘家人”扎根乡村后……",
    ]
    assert articles[0].subtitle == "天津静海区总实现技能培训从“固定场地”到“送教上门”"
    assert articles[6].subtitle == "陕西平利县推动乡建公司建立工会，探索工会助力新型农村集体经济发展的新路子"
    assert articles[5].subtitle == ""


def test_page_002_titles_including_photo_news_and_column():
    articles = parse_seed("002_7155a4ac0a6710c1.txt")
    assert [a.title for a in articles] == [
        "“工事共商”让职工有意见“随时提、马上办”",
        "将新就业形态劳动者纳入职工互助保障",
        "三亚工会暖心举措陪外卖配送员过年",
        "务工返岗专列来了",
        "“托管+特色”帮职工带娃",
        "系统提升培养对象的“工匠五力”",
        "思政课“声”入学子心中",
        "跟着课本找年味",
        "为职工打造安放身心的“小家”",
        "课堂搬到产业链 论文写在岗位上",
    ]
    assert articles[1].metadata["kicker"] == "秦皇岛市总:"
    assert articles[3].captions == ("本报通讯员 王光辉 摄",)
    assert articles[7].metadata["column"] == "新闻特写"
    assert articles[7].subtitle == ""


def test_page_001_markdown_headings_and_columns():
    articles = parse_seed("001_500ef03d0f46bb82.txt")
    assert articles[0].title == "首都示范性工匠学院累计培养职工匠师(讲师)169名"
    assert articles[0].metadata["column"] == "深入学习贯彻党的二十大精神 奋力开拓首都工会工作新局面"
    assert articles[0].subtitle == "打造职工匠师成长的“摇篮”和技能人才发展的沃土"
    assert articles[1].metadata["column"] == "工会重点工作创新案例 / 北京经验"
    assert articles[2].title == "汕尾市总工会以“三心”打造工会爱心阵地"
    assert articles[2].metadata["reprinted_from"] == "中工网"
    assert articles[2].paragraphs[-1].endswith("快速找到身边的“家”。")


def test_gaoyang_sentence_is_rejoined_into_one_paragraph():
    paragraphs = [p for a in parse_seed("000_5b8958093c4648a7.txt") for p in a.paragraphs]
    hits = [p for p in paragraphs if "青年职工高阳" in p]
    assert len(hits) == 1
    assert "青年职工高阳说，培训特别" in hits[0]
    assert not any(p.startswith("说，培训") for p in paragraphs)


def test_quote_and_its_attribution_are_one_paragraph():
    paragraphs = parse_seed("000_5b8958093c4648a7.txt")[0].paragraphs
    assert any(p.endswith("因此职工参加培训的积极性不高。”张树国说。") for p in paragraphs)
    assert "张树国说。" not in paragraphs


def test_verbatim_duplicate_passage_is_kept_once():
    passage = "围绕“服务职工零距离”,莱芜区总打破地域、行业壁垒,推动资源下沉"
    paragraphs = [p for a in parse_seed("003_3a721939992c0ea0.txt") for p in a.paragraphs]
    assert sum(passage in p for p in paragraphs) == 1


def test_reading_tip_box_does_not_split_the_paragraph_it_interrupts():
    article = parse_seed("004_50f2d3aaf810ce71.txt")[-1]
    assert article.metadata["insert"] == "阅读提示"
    joined = [p for p in article.paragraphs if "就医分诊有指导、体检报告有解读" in p]
    assert len(joined) == 1
    assert "阅读提示" not in "".join(article.paragraphs)


def test_diary_byline_date_and_author_note():
    diary = parse_seed("004_50f2d3aaf810ce71.txt")[2]
    assert diary.title == "“蹲”出来的解题思路"
    assert diary.byline == "□毛凯"
    assert diary.date == "2024-12-10"
    assert diary.metadata["column"] == "蹲点日记"
    assert diary.metadata["author_note"] == "作者单位：全国总工会劳动和经济工作部"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name[:3])
def test_no_caption_byline_or_dateline_in_paragraphs(page):
    articles = parse_page(page.read_text(encoding="utf-8"), page.name)
    body = "\n".join(p for a in articles for p in a.paragraphs)
    for a in articles:
        for caption in a.captions:
            assert caption not in body
    for marker in ("本报讯", " 摄", "图为", "本报记者 ", "阅读提示"):
        assert marker not in body


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name[:3])
def test_paragraphs_end_sentences_except_headings(page):
    unclosed = []
    for a in parse_page(page.read_text(encoding="utf-8"), page.name):
        assert a.paragraphs, a.id
        for k, p in enumerate(a.paragraphs):
            # a section heading stands on its own line above the paragraph it introduces
            if not ends_sentence(p.split("\n")[-1]):
                unclosed.append((a.id, k))
    expected = [("003_3a721939992c0ea0.a08", 1)] if page.name.startswith("003") else []
    assert unclosed == expected  # only the page's last paragraph, cut off by the page ("本届艺术节自")


def test_cut_off_last_paragraph_is_flagged():
    last = parse_seed("003_3a721939992c0ea0.txt")[-1]
    assert last.paragraphs[-1] == "本届艺术节自"
    assert last.metadata["unclosed"] == "1"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name[:3])
def test_ids_sources_and_stability(page):
    text = page.read_text(encoding="utf-8")
    first, second = parse_page(text, page.name), parse_page(text, page.name)
    assert first == second
    assert [a.id for a in first] == [f"{page.stem}.a{n:02d}" for n in range(len(first))]
    assert {a.source for a in first} == {page.name}


# --- one rule at a time --------------------------------------------------------------------------

PAGE = """引题说明新闻的背景

主标题在这里

本报讯（记者 张三 通讯员 李四）今天，工厂青年职工高

阳说，培训特别“解渴”。

第一节的小标题

“以往培训路太远。”

王五说。

本报通讯员 赵六 摄
"""


def test_rejoin_byline_caption_and_heading_on_a_small_page():
    [a] = parse_page(PAGE, "x/p.txt")
    assert a.id == "p.a00"
    assert a.title == "主标题在这里"
    assert a.subtitle == "引题说明新闻的背景"
    assert a.byline == "记者 张三 通讯员 李四"
    assert a.metadata["dateline"] == "本报讯"
    assert a.captions == ("本报通讯员 赵六 摄",)
    assert a.paragraphs == (
        "今天，工厂青年职工高阳说，培训特别“解渴”。",
        "第一节的小标题\n“以往培训路太远。”王五说。",
    )
    assert a.date is None


def test_crlf_and_full_width_spaces_read_like_plain_newlines():
    odd = "\r\n".join("\u3000\u3000" + line + " \u3000" for line in PAGE.split("\n"))
    assert parse_page(odd, "p.txt") == parse_page(PAGE, "p.txt")


def test_continuation_recognised_by_its_opening_punctuation():
    page = "标题\n\n本报记者 张三\n\n他在车间里\n\n说，这是第一次。\n"
    assert parse_page(page, "p.txt")[0].paragraphs == ("他在车间里说，这是第一次。",)


def test_heading_directly_followed_by_a_fragment_joins_the_fragment():
    page = "标题\n\n本报记者 张三\n\n开头一段。\n\n小标题\n\n在此基础上,各级工会\n\n开展帮扶。\n"
    assert parse_page(page, "p.txt")[0].paragraphs == ("开头一段。", "小标题\n在此基础上,各级工会开展帮扶。")


def test_exact_duplicates_dropped_across_the_page_first_kept():
    page = ("一号标题\n\n本报记者 张三\n\n重复的一段话。\n\n重复的一段话。\n\n"
            "二号标题\n\n本报记者 李四\n\n重复的一段话。\n\n另一段话。\n")
    first, second = parse_page(page, "p.txt")
    assert first.paragraphs == ("重复的一段话。",)
    assert second.paragraphs == ("另一段话。",)


def test_inline_picture_caption_is_moved_to_captions():
    page = ("上一篇\n\n本报记者 张三\n\n上一篇的正文。\n\n“新茶人”大比武\n\n"
            "1月12日，选手展开角逐。图为选手在比赛。\n\n本报通讯员 陈仕川 摄\n")
    _, a = parse_page(page, "p.txt")  # a photo news item: heading, dated text, credit
    assert a.title == "“新茶人”大比武"
    assert a.paragraphs == ("1月12日，选手展开角逐。",)
    assert a.captions == ("图为选手在比赛。", "本报通讯员 陈仕川 摄")


def test_headline_group_column_kicker_title_deck():
    page = "蹲点日记\n\n引题在上——\n\n主标题\n\n——副题在下\n\n□毛凯\n\n正文。\n"
    [a] = parse_page(page, "p.txt")
    assert (a.title, a.subtitle, a.byline) == ("主标题", "引题在上—— 副题在下", "□毛凯")
    assert a.metadata == {"column": "蹲点日记", "kicker": "引题在上——", "deck": "副题在下"}


def test_datelines_give_month_day_dates_and_a_date_line_a_full_date():
    page = ("话剧即将开演\n\n本报北京12月19日电（记者朱欣）今天举办发布会。\n\n"
            "日记标题\n\n本报记者 张三\n\n2024年12月10日 星期二 小雨\n\n正文。\n")
    first, second = parse_page(page, "p.txt")
    assert (first.date, first.byline, first.paragraphs) == ("--12-19", "记者朱欣", ("今天举办发布会。",))
    assert second.date == "2024-12-10"


def test_section_heading_is_never_a_new_article():
    page = "标题\n\n本报记者 张三\n\n第一段。\n\n小标题一\n\n第二段。\n\n小标题二\n\n第三段。\n"
    [a] = parse_page(page, "p.txt")
    assert a.paragraphs == ("第一段。", "小标题一\n第二段。", "小标题二\n第三段。")


def test_caption_between_the_halves_of_a_broken_paragraph():
    page = ("标题\n\n本报记者 张三\n\n工会干部走进车间、倾听职工心声的\n\n"
            "图为工会干部在车间。（本报记者 张三 摄）\n\n故事，也记录了职工的期盼。\n")
    [a] = parse_page(page, "p.txt")
    assert a.paragraphs == ("工会干部走进车间、倾听职工心声的故事，也记录了职工的期盼。",)
    assert a.captions == ("图为工会干部在车间。（本报记者 张三 摄）",)


def test_page_date_line_and_a_closing_byline():
    page = ("2024年12月20日 星期五\n\n标题一\n\n第一篇正文。\n\n（本报记者 张三）\n\n"
            "标题二\n\n本报讯（记者 李四）第二篇正文。\n")
    first, second = parse_page(page, "p.txt")
    assert (first.title, first.paragraphs, first.byline) == ("标题一", ("第一篇正文。",), "本报记者 张三")
    assert first.date == second.date == "2024-12-20"


def test_column_label_over_a_headline_without_byline():
    [a] = parse_page("短评\n\n工会要把好事办实\n\n工会工作要落到实处。\n", "p.txt")
    assert (a.title, a.metadata, a.paragraphs) == ("工会要把好事办实", {"column": "短评"}, ("工会工作要落到实处。",))


@pytest.mark.parametrize("text", ["", "   ", "\n\r\n\u3000\n"])
def test_empty_input_gives_no_articles(text):
    assert parse_page(text, "p.txt") == []


def test_text_without_headline_is_one_article_titled_by_first_line_or_stem():
    [short] = parse_page("只有一句话。\n", "dir/page7.txt")
    assert (short.id, short.title, short.paragraphs) == ("page7.a00", "只有一句话。", ("只有一句话。",))
    long_line = "这是一段很长的正文，" * 10 + "完。"
    [long] = parse_page(long_line, "dir/page7.txt")
    assert long.title == "page7"


ALPHABET = st.sampled_from(list("本报讯记者通讯员摄图为（）()“”《》，,。！？…—#> <□张三工会\n\r\u3000 12月日年"))


@settings(max_examples=300, deadline=None)
@given(st.lists(ALPHABET, max_size=200).map("".join))
def test_never_raises_and_ids_count_from_zero(text):
    articles = parse_page(text, "p.txt")
    assert [a.id for a in articles] == [f"p.a{n:02d}" for n in range(len(articles))]
    assert all(a.title and all(a.paragraphs) for a in articles)
