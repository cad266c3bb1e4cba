"""Page text -> classified lines: headings, bylines, credits, captions, datelines, notes."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Block kinds. Lines are classified into the first nine; joining turns "text" into "head" or "para".
TEXT, MD, COLUMN, BYLINE, CREDIT, CAPTION, DATE, NOTE, INSERT = (
    "text", "md", "column", "byline", "credit", "caption", "date", "note", "insert")
HEAD, PARA = "head", "para"

HEADING_MAX = 40  # longest open line read as a heading when nothing else decides
TITLE_MAX = 60  # longest line accepted in a headline group that ends at a byline

SENTENCE_END = "。！？!?…；;"
CLOSERS = "”’」』）)\"' "
PAIRS = (("“", "”"), ("‘", "’"), ("《", "》"), ("（(", "）)"), ("「", "」"))
# A line that starts with closing punctuation, or with one character and then punctuation,
# continues the line before it ("说，培训…", "汇”职工…", "导、体检…").
LEADING_PUNCT = "，,。、；;：:！？!?…”’」』）)》"
SECOND_PUNCT = "，,。、；;：:”’」』）)"
# Characters a headline never ends on: particles, conjunctions, prepositions, list commas.
DANGLING = "的与及或把被从向跟并和，,、"

ROLE = r"(?:本报|新华社|中新社)?(?:特约|见习|首席|实习|摄影)?(?:记者|通讯员|实习生|评论员)"
_ROLE_NAME = re.compile(rf"^{ROLE}(?:[\u4e00-\u9fff·]{{2,4}})?$")
_NAME = re.compile(r"^[\u4e00-\u9fff·]{2,4}$")
_MARKED_AUTHOR = re.compile(r"^[□■◇◆]\s*[\u4e00-\u9fff·]{2,8}(?:\s+[\u4e00-\u9fff·]{2,8})*$")  # "□毛凯"
_CREDIT = re.compile(r"^[（(]?(?P<who>[^，,。：:；;！？]{2,40}?)\s*(?:摄影|摄|供图|制图)[）)]?$")
_CAPTION = re.compile(r"^(?:图为|上图|下图|左图|右图|图[①-⑩\d]|[▲△▼◀▶])")
_INLINE_CAPTION = re.compile(r"(?<=[。！？!?”])\s*(图为.*)$")
# "2024年12月10日 星期二 小雨": a date line, with the weekday and the weather of a diary.
_DATE_LINE = re.compile(
    r"^(\d{4})年(\d{1,2})月(\d{1,2})日(?:\s*(?:星期|周)[一二三四五六日天])?(?:\s*[\u4e00-\u9fff]{1,4})?$")
# "本报讯（记者 X）", "本报北京12月19日电（记者朱欣）", "本报12月18日厦门电（…）" opening a paragraph.
DATELINE = re.compile(
    r"^(?P<tag>本报讯|(?:本报|新华社|中新社)[\u4e00-\u9fff]{0,6}"
    r"(?P<m>\d{1,2})月(?P<d>\d{1,2})日[\u4e00-\u9fff]{0,6}电)"
    r"\s*(?:[（(](?P<who>[^（()）]{1,40})[）)])?\s*")
_AUTHOR_NOTE = re.compile(r"^[（(]((?:本文)?作者(?:单位)?[：:系为是].*)[）)]$")
_REPRINT = re.compile(
    r"(?<=[。！？!?”])\s*(?:转自|来源[：:]|稿件来源[：:])\s*《?([^《》\s]{1,20})》?$")
_MD = re.compile(r"^(#{1,6})\s*([^#\s].*)$")
_COLUMN = re.compile(r"^(?:>{2,}\s*(.+?)\s*<{2,}|【([^】]{1,12})】)$")
_INSERT_LABEL = re.compile(r"^(阅读提示|核心提示|编者按|导读)[：:]?$")
# News sentences open with a time or a connective and a comma; headlines never do.
_OPENER = re.compile(
    r"^(?:\d{4}年(?:\d{1,2}月(?:\d{1,2}日)?)?|\d{1,2}月(?:\d{1,2}日)?"
    r"|近日|日前|近年来|近年|目前|今年|去年|当天|此前|随后|其中|另外|此外|同时"
    r"|据悉|据了解|据介绍|据统计|然而|但是|因此|于是|如今|截至目前)[，,]")
WHEN = re.compile(r"^(?:(?:\d{4}年)?\d{1,2}月\d{1,2}日|近日|日前|当天|连日来)")
# "张树国说。" standing alone after a closing quote: the attribution of the quote above it.
ATTRIBUTION = re.compile(
    r"^[\u4e00-\u9fff·]{1,12}(?:说|表示|介绍|坦言|感慨|感叹|告诉记者|如是说)道?[。.]$")


@dataclass(frozen=True)
class Block:
    """One classified line, or after joining one heading or paragraph."""

    kind: str
    text: str
    level: int = 0  # markdown heading level, 0 for plain lines
    extra: str = ""  # note key, insert label, or "open" for a paragraph cut off mid-sentence


def split_lines(text: str) -> list[str]:
    """Non-empty lines, with \\r\\n, full-width and non-breaking spaces normalised."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "").replace("\u200b", "")
    out = []
    for line in text.split("\n"):
        line = re.sub(r"[\u3000\xa0\t ]+", " ", line).strip()
        if line:
            out.append(line)
    return out


def classify(lines: list[str]) -> list[Block]:
    """Each line as a block of the kind it is on its own; an insert label takes the line after it."""
    out: list[Block] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if _INSERT_LABEL.match(line):
            if i < len(lines):
                out.append(Block(INSERT, lines[i], extra=line.rstrip("：:")))
                i += 1
            continue
        out.extend(_classify_line(line))
    return out


def _classify_line(line: str) -> list[Block]:
    """One line -> its block, or a text block followed by the caption or note split off its end."""
    if m := _MD.match(line):
        return [Block(MD, m.group(2).strip(), level=len(m.group(1)))]
    if m := _COLUMN.match(line):
        return [Block(COLUMN, (m.group(1) or m.group(2)).strip())]
    if _is_credit(line):
        return [Block(CREDIT, line)]
    if _is_byline(line):
        return [Block(BYLINE, line.strip("（()）"))]
    if _DATE_LINE.match(line):
        return [Block(DATE, line)]
    if m := _AUTHOR_NOTE.match(line):
        return [Block(NOTE, m.group(1), extra="author_note")]
    if _CAPTION.match(line):
        return [Block(CAPTION, line)]
    tail: list[Block] = []
    if m := _REPRINT.search(line):
        tail.append(Block(NOTE, m.group(1), extra="reprinted_from"))
        line = line[: m.start()].rstrip()
    if m := _INLINE_CAPTION.search(line):
        tail.insert(0, Block(CAPTION, m.group(1)))
        line = line[: m.start()].rstrip()
    return ([Block(TEXT, line)] if line else []) + tail


def _is_byline(line: str) -> bool:
    """A line of roles and names only: "本报记者 张玺 本报通讯员 程志会", "□毛凯", "（本报记者 张琳）"."""
    line = line.strip("（()）")
    if _MARKED_AUTHOR.match(line):
        return True
    tokens = line.split()
    # One glued token ("记者手记", a column) is a byline only with its paper: "本报记者张琳".
    return (len(line) <= 50 and bool(tokens) and bool(_ROLE_NAME.match(tokens[0]))
            and (len(tokens) > 1 or tokens[0].startswith(("本报", "新华社", "中新社")))
            and all(_ROLE_NAME.match(t) or _NAME.match(t) for t in tokens))


def _is_credit(line: str) -> bool:
    """A photo credit: "本报通讯员 王光辉 摄", "受访者供图"; a role or a space must precede 摄."""
    m = _CREDIT.match(line)
    if not m or len(line) > 40:
        return False
    core = line.rstrip("）)")
    return core.endswith(("供图", "制图")) or bool(re.search(ROLE, m["who"]) or re.search(r"\s摄(?:影)?$", core))


def closes(text: str) -> bool:
    """Whether `text` ends a sentence; closing quotes after the stop count ("…不高。”")."""
    core = text.rstrip(CLOSERS)
    return bool(core) and core[-1] in SENTENCE_END


def continues(text: str) -> bool:
    """Whether `text` can only be the second half of a broken line ("说，培训…", "汇”职工…")."""
    return bool(text) and (text[0] in LEADING_PUNCT or (len(text) > 1 and text[1] in SECOND_PUNCT))


def _unbalanced(text: str) -> bool:
    """Whether a quote or bracket opens in `text` and does not close there."""
    return any(sum(map(text.count, o)) > sum(map(text.count, c)) for o, c in PAIRS)


def _phrase_like(text: str) -> bool:
    """Whether `text` reads as a phrase, not a sentence: no stop inside, quotes closed, at most
    two commas, no sentence opener ("据悉，", "2023年5月,") and no dateline."""
    core = text.rstrip(CLOSERS)
    return (not any(c in "。；;" for c in core[:-1]) and not _unbalanced(text)
            and sum(map(text.count, "，,")) < 3 and not _OPENER.match(text) and not DATELINE.match(text))


def reads_as_body(text: str) -> bool:
    """Whether an unfinished line is body text rather than a heading: long, not a phrase, or
    ending on a word that needs a continuation ("…倾听职工心声的", "…生产、")."""
    return len(text) > HEADING_MAX or not _phrase_like(text) or text[-1] in DANGLING


def titleish(text: str) -> bool:
    """Whether `text` may be one line of a headline group (it may end in ！？…, never in 。)."""
    core = text.rstrip(CLOSERS)
    return bool(core) and len(text) <= TITLE_MAX and core[-1] not in "。；;" and _phrase_like(text)
