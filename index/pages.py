"""One newspaper page as plain text -> Articles (headline, byline, captions, rejoined paragraphs)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from index.models import Article

# Block kinds. Lines are classified into the first nine; joining turns "text" into "head" or "para".
TEXT, MD, COLUMN, BYLINE, CREDIT, CAPTION, DATE, NOTE, INSERT = (
    "text", "md", "column", "byline", "credit", "caption", "date", "note", "insert")
HEAD, PARA = "head", "para"
HEADISH = (HEAD, MD, COLUMN)
# Blocks that the layout may drop between the two halves of a broken paragraph.
INTERRUPTIONS = (CAPTION, CREDIT, INSERT, NOTE)

HEADING_MAX = 40  # longest open line read as a heading when nothing else decides
TITLE_MAX = 60  # longest line accepted in a headline group that ends at a byline
GROUP_MAX = 5  # most lines in one headline group (column, 引题, 主题, 副题)
PHOTO_MAX_PARAS, PHOTO_MAX_CHARS = 3, 400  # a photo news item: a title and a short caption text

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
_DATELINE = re.compile(
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
_WHEN = re.compile(r"^(?:(?:\d{4}年)?\d{1,2}月\d{1,2}日|近日|日前|当天|连日来)")
# "张树国说。" standing alone after a closing quote: the attribution of the quote above it.
_ATTRIBUTION = re.compile(
    r"^[\u4e00-\u9fff·]{1,12}(?:说|表示|介绍|坦言|感慨|感叹|告诉记者|如是说)道?[。.]$")


@dataclass(frozen=True)
class _Block:
    """One classified line, or after joining one heading or paragraph."""

    kind: str
    text: str
    level: int = 0  # markdown heading level, 0 for plain lines
    extra: str = ""  # note key, insert label, or "open" for a paragraph cut off mid-sentence


def parse_page(text: str, source: str) -> list[Article]:
    """Split one newspaper page into articles.

    `source` is the file name (e.g. "000_5b8958093c4648a7.txt"); ids are `f"{stem}.a{n:02d}"`
    with n counting articles from 0 in page order, so they are stable across rebuilds.

    `date` is "YYYY-MM-DD" from a date line ("2024年12月10日 星期二"), "--MM-DD" (ISO 8601 without
    a year) from a dateline ("本报北京12月19日电"), else the page's date line, else None.
    Exact duplicate paragraphs on a page are kept once, the first time they appear.

    Never raises: empty text gives []; text without a recognisable headline gives one article
    titled by its first line (or by the file stem when that line is long).
    """
    blocks = _join(_classify(_lines(text or "")))
    if not blocks:
        return []
    starts = _article_starts(blocks)
    bounds = ([0] if not starts or starts[0] > 0 else []) + starts + [len(blocks)]
    first = starts[0] if starts else len(blocks)
    page_date = next((_iso_date(b.text) for b in blocks[:first] if b.kind == DATE), None)
    stem = Path(source).stem
    seen: set[str] = set()  # paragraph texts already kept on this page: exact duplicates are dropped
    articles: list[Article] = []
    for lo, hi in zip(bounds, bounds[1:]):
        article = _article(blocks[lo:hi], f"{stem}.a{len(articles):02d}", source, page_date, seen)
        if article is not None:
            articles.append(article)
    return articles


def _lines(text: str) -> list[str]:
    """Non-empty lines, with \\r\\n, full-width and non-breaking spaces normalised."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "").replace("\u200b", "")
    out = []
    for line in text.split("\n"):
        line = re.sub(r"[\u3000\xa0\t ]+", " ", line).strip()
        if line:
            out.append(line)
    return out


def _classify(lines: list[str]) -> list[_Block]:
    """Each line as a block of the kind it is on its own; an insert label takes the line after it."""
    out: list[_Block] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if _INSERT_LABEL.match(line):
            if i < len(lines):
                out.append(_Block(INSERT, lines[i], extra=line.rstrip("：:")))
                i += 1
            continue
        out.extend(_classify_line(line))
    return out


def _classify_line(line: str) -> list[_Block]:
    """One line -> its block, or a text block followed by the caption or note split off its end."""
    if m := _MD.match(line):
        return [_Block(MD, m.group(2).strip(), level=len(m.group(1)))]
    if m := _COLUMN.match(line):
        return [_Block(COLUMN, (m.group(1) or m.group(2)).strip())]
    if _is_credit(line):
        return [_Block(CREDIT, line)]
    if _is_byline(line):
        return [_Block(BYLINE, line.strip("（()）"))]
    if _DATE_LINE.match(line):
        return [_Block(DATE, line)]
    if m := _AUTHOR_NOTE.match(line):
        return [_Block(NOTE, m.group(1), extra="author_note")]
    if _CAPTION.match(line):
        return [_Block(CAPTION, line)]
    tail: list[_Block] = []
    if m := _REPRINT.search(line):
        tail.append(_Block(NOTE, m.group(1), extra="reprinted_from"))
        line = line[: m.start()].rstrip()
    if m := _INLINE_CAPTION.search(line):
        tail.insert(0, _Block(CAPTION, m.group(1)))
        line = line[: m.start()].rstrip()
    return ([_Block(TEXT, line)] if line else []) + tail


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


def _closes(text: str) -> bool:
    """Whether `text` ends a sentence; closing quotes after the stop count ("…不高。”")."""
    core = text.rstrip(CLOSERS)
    return bool(core) and core[-1] in SENTENCE_END


def _continues(text: str) -> bool:
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
            and sum(map(text.count, "，,")) < 3 and not _OPENER.match(text) and not _DATELINE.match(text))


def _reads_as_body(text: str) -> bool:
    """Whether an unfinished line is body text rather than a heading: long, not a phrase, or
    ending on a word that needs a continuation ("…倾听职工心声的", "…生产、")."""
    return len(text) > HEADING_MAX or not _phrase_like(text) or text[-1] in DANGLING


def _titleish(text: str) -> bool:
    """Whether `text` may be one line of a headline group (it may end in ！？…, never in 。)."""
    core = text.rstrip(CLOSERS)
    return bool(core) and len(text) <= TITLE_MAX and core[-1] not in "。；;" and _phrase_like(text)


def _is_anchor(block: _Block) -> bool:
    """Whether `block` follows a headline: a byline, a date line, or a "本报讯（记者…）" paragraph."""
    return block.kind in (BYLINE, DATE) or (block.kind == TEXT and bool(_DATELINE.match(block.text)))


def _headline_run(blocks: list[_Block], i: int) -> int | None:
    """End of the headline group starting at `i` when a byline or dateline follows it, else None."""
    j = i
    while j < len(blocks) and j - i < GROUP_MAX:
        b = blocks[j]
        if b.kind not in (MD, COLUMN) and (b.kind != TEXT or not _titleish(b.text)):
            break
        j += 1
        if b.kind == TEXT and _closes(b.text):
            break  # a headline ending in ！？… is the last line of its group
    return j if i < j < len(blocks) and _is_anchor(blocks[j]) else None


def _join(blocks: list[_Block]) -> list[_Block]:
    """Text lines -> headings and paragraphs; a paragraph broken by the layout is read as one.

    Captions, notes and inserts met between the two halves are kept and placed after the paragraph.
    """
    out: list[_Block] = []
    i = 0
    while i < len(blocks):
        b = blocks[i]
        if b.kind != TEXT:
            out.append(b)
            i += 1
        elif (end := _headline_run(blocks, i)) is not None:
            out.extend(_Block(HEAD, x.text) if x.kind == TEXT else x for x in blocks[i:end])
            i = end
        else:
            block, i, deferred = _read_paragraph(blocks, i, after_head=bool(out) and out[-1].kind == HEAD)
            out.append(block)
            out.extend(deferred)
    return out


def _read_paragraph(blocks: list[_Block], i: int, after_head: bool) -> tuple[_Block, int, list[_Block]]:
    """The heading or paragraph starting at text block `i`, the index after it, and blocks deferred."""
    text, i, deferred, joined = blocks[i].text, i + 1, [], False
    while not _closes(text):
        j = i
        while j < len(blocks) and blocks[j].kind in INTERRUPTIONS:
            j += 1
        nxt = blocks[j] if j < len(blocks) else None
        if nxt is None or nxt.kind != TEXT or _DATELINE.match(nxt.text):
            if not joined and nxt is not None and not _reads_as_body(text):
                return _Block(HEAD, text), i, deferred
            return _Block(PARA, text, extra="open"), i, deferred
        if not _continues(nxt.text):
            next_is_headline = _headline_run(blocks, j) is not None
            clause_after_head = after_head and any(c in text for c in "，,")
            if not joined and not _reads_as_body(text) and (next_is_headline or not clause_after_head):
                # A short phrase, balanced, no stop inside, not opening like a sentence: a heading.
                # A clause right under a section heading is instead the first half of the section's
                # opening paragraph ("实打实帮扶" / "在摸清底数的基础上,葫芦岛各级工会" / "瞄准…").
                return _Block(HEAD, text), i, deferred
            if next_is_headline:
                return _Block(PARA, text, extra="open"), i, deferred
        deferred.extend(blocks[i:j])
        text, i, joined = text + nxt.text, j + 1, True
    if (text.rstrip(" ").endswith(("”", "」")) and i < len(blocks) and blocks[i].kind == TEXT
            and _ATTRIBUTION.match(blocks[i].text)):
        text, i = text + blocks[i].text, i + 1  # "“…不高。”" + "张树国说。"
    return _Block(PARA, text), i, deferred


def _article_starts(blocks: list[_Block]) -> list[int]:
    """Indices where an article's headline group begins, in page order.

    A run of headings starts an article when a byline or dateline follows it, when it holds a
    markdown heading or a column mark, when it opens the page, or when a photo credit closes
    the few short paragraphs under it (a photo news item). Other headings are section headings.
    """
    def group_start(k: int) -> int:
        while k > 0 and blocks[k - 1].kind in HEADISH:
            k -= 1
        return k

    starts: set[int] = set()
    first = next((k for k, b in enumerate(blocks) if b.kind in (*HEADISH, PARA, INSERT)), None)
    if first is not None and blocks[first].kind in HEADISH:
        starts.add(group_start(first))  # the page opens with a headline (under a date line, say)
    for k, b in enumerate(blocks):
        anchor = b.kind in (BYLINE, DATE) or (b.kind == PARA and bool(_DATELINE.match(b.text)))
        if anchor and k > 0 and blocks[k - 1].kind in HEADISH:
            starts.add(group_start(k - 1))
        elif b.kind in (MD, COLUMN):
            starts.add(group_start(k))
        elif b.kind == CREDIT and (head := _photo_title(blocks, k)) is not None:
            starts.add(group_start(head))
    return sorted(starts)


def _photo_title(blocks: list[_Block], credit: int) -> int | None:
    """Index of the heading over a photo news item closed by the credit at `credit`, if any.

    A photo news item is a heading, at most a few short paragraphs that open, as news photo
    texts do, with when it happened ("2月25日,…"), then the credit; a section that merely ends
    with a photo credit does not open with a date and stays in its article.
    """
    j, paras = credit - 1, []
    while j >= 0 and blocks[j].kind in (PARA, CAPTION, CREDIT):
        if blocks[j].kind == PARA:
            paras.insert(0, blocks[j].text)
        j -= 1
    ok = (j >= 0 and blocks[j].kind == HEAD and 1 <= len(paras) <= PHOTO_MAX_PARAS
          and sum(map(len, paras)) <= PHOTO_MAX_CHARS and bool(_WHEN.match(paras[0])))
    return j if ok else None


def _article(blocks: list[_Block], aid: str, source: str, page_date: str | None,
             seen: set[str]) -> Article | None:
    """One article from its blocks: the headline group first, then bylines, captions and body.

    None when there is no headline and no paragraph (stray bylines or dates above the first one).
    """
    n_head = next((k for k, b in enumerate(blocks) if b.kind not in HEADISH), len(blocks))
    title, subtitle, meta = _headline(blocks[:n_head])
    bylines: list[str] = []
    captions: list[str] = []
    paragraphs: list[str] = []
    pending: list[str] = []  # section headings waiting for the paragraph they introduce
    dates: list[str] = []
    unclosed: list[str] = []
    for b in blocks[n_head:]:
        if b.kind in HEADISH:
            pending.append(b.text)
        elif b.kind == BYLINE:
            bylines.append(b.text)
        elif b.kind in (CREDIT, CAPTION):
            captions.append(b.text)
        elif b.kind == DATE:
            dates.extend(filter(None, [_iso_date(b.text)]))
        elif b.kind == NOTE:
            meta[b.extra] = b.text
        elif b.kind == INSERT:
            meta["insert"] = b.extra
        if b.kind not in (PARA, INSERT):
            continue
        text = b.text
        if b.kind == PARA and (m := _DATELINE.match(text)):
            text = text[m.end():].strip()  # the dateline is not body text; the rest of the paragraph is
            meta["dateline"] = m["tag"]
            bylines.extend([m["who"].strip()] if m["who"] and re.search(ROLE, m["who"]) else [])
            dates.extend([f"--{int(m['m']):02d}-{int(m['d']):02d}"] if m["m"] else [])
        if not text or text in seen:
            continue
        seen.add(text)
        if b.extra == "open":
            unclosed.append(str(len(paragraphs)))
        # A section heading is attached to the paragraph it introduces rather than kept alone:
        # alone it is a 6-15 character unit that BM25 length normalisation over-rewards and that
        # answers nothing; attached, it labels its paragraph and the ids stay dense.
        paragraphs.append("\n".join([*pending, text]))
        pending = []
    if pending:
        paragraphs.append("\n".join(pending))
    if not title and not paragraphs:
        return None
    if not title:
        first = paragraphs[0].split("\n")[0]
        title = first if len(first) <= TITLE_MAX else Path(source).stem
    if unclosed:
        meta["unclosed"] = ",".join(unclosed)
    return Article(id=aid, title=title, paragraphs=tuple(paragraphs), subtitle=subtitle,
                   byline=" ".join(dict.fromkeys(bylines)), source=source,
                   date=(dates or [page_date])[0], captions=tuple(captions), metadata=meta)


def _headline(group: list[_Block]) -> tuple[str, str, dict[str, str]]:
    """Title, subtitle and metadata of a headline group laid out as [栏目] [引题] 主题 [副题].

    The main title is the last markdown heading, else the last line not opening with "——"
    (the mark of a 副题). Above it, markdown headings of a higher rank, column marks, short
    labels ("新闻特写") and lines above the 引题 are the column; the line just above is the 引题.
    """
    if not group:
        return "", "", {}
    md = [k for k, b in enumerate(group) if b.kind == MD]
    plain = [k for k, b in enumerate(group) if b.kind == HEAD and not b.text.startswith("—")]
    t = md[-1] if md else (plain[-1] if plain else len(group) - 1)
    title = group[t]
    column, kicker = [], []
    for k, b in enumerate(group[:t]):
        outranks = b.kind == MD and title.kind == MD and b.level < title.level
        is_label = b.kind == COLUMN or outranks or k < t - 1 or _is_label(b.text)
        (column if is_label else kicker).append(b.text)
    deck = [b.text.lstrip("—").strip() for b in group[t + 1:]]
    meta = {key: " / ".join(v) for key, v in (("column", column), ("kicker", kicker), ("deck", deck)) if v}
    return title.text, " ".join(kicker + deck), meta


def _is_label(text: str) -> bool:
    """Whether `text` is a column label such as "新闻特写", "短评": a few Chinese characters only."""
    return re.fullmatch(r"[\u4e00-\u9fff]{1,5}", text) is not None


def _iso_date(text: str) -> str | None:
    """"2024年12月10日 星期二" -> "2024-12-10"; None when `text` holds no full date."""
    m = re.search(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text)
    return f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}" if m else None
