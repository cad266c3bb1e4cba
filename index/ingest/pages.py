"""One newspaper page as plain text -> Articles (headline, byline, captions, rejoined paragraphs)."""

from __future__ import annotations

import re
from pathlib import Path

from index.models import Article
from index.ingest.page_lines import (
    ATTRIBUTION, BYLINE, CAPTION, COLUMN, CREDIT, DATE, DATELINE, HEAD, INSERT, MD, NOTE, PARA, ROLE,
    TEXT, TITLE_MAX, WHEN, Block, classify, closes, continues, reads_as_body, split_lines, titleish,
)

HEADISH = (HEAD, MD, COLUMN)
# Blocks that the layout may drop between the two halves of a broken paragraph.
INTERRUPTIONS = (CAPTION, CREDIT, INSERT, NOTE)

GROUP_MAX = 5  # most lines in one headline group (column, 引题, 主题, 副题)
PHOTO_MAX_PARAS, PHOTO_MAX_CHARS = 3, 400  # a photo news item: a title and a short caption text


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
    blocks = _join(classify(split_lines(text or "")))
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


def _is_anchor(block: Block) -> bool:
    """Whether `block` follows a headline: a byline, a date line, or a "本报讯（记者…）" paragraph."""
    return block.kind in (BYLINE, DATE) or (block.kind == TEXT and bool(DATELINE.match(block.text)))


def _headline_run(blocks: list[Block], i: int) -> int | None:
    """End of the headline group starting at `i` when a byline or dateline follows it, else None."""
    j = i
    while j < len(blocks) and j - i < GROUP_MAX:
        b = blocks[j]
        if b.kind not in (MD, COLUMN) and (b.kind != TEXT or not titleish(b.text)):
            break
        j += 1
        if b.kind == TEXT and closes(b.text):
            break  # a headline ending in ！？… is the last line of its group
    return j if i < j < len(blocks) and _is_anchor(blocks[j]) else None


def _join(blocks: list[Block]) -> list[Block]:
    """Text lines -> headings and paragraphs; a paragraph broken by the layout is read as one.

    Captions, notes and inserts met between the two halves are kept and placed after the paragraph.
    """
    out: list[Block] = []
    i = 0
    while i < len(blocks):
        b = blocks[i]
        if b.kind != TEXT:
            out.append(b)
            i += 1
        elif (end := _headline_run(blocks, i)) is not None:
            out.extend(Block(HEAD, x.text) if x.kind == TEXT else x for x in blocks[i:end])
            i = end
        else:
            block, i, deferred = _read_paragraph(blocks, i, after_head=bool(out) and out[-1].kind == HEAD)
            out.append(block)
            out.extend(deferred)
    return out


def _read_paragraph(blocks: list[Block], i: int, after_head: bool) -> tuple[Block, int, list[Block]]:
    """The heading or paragraph starting at text block `i`, the index after it, and blocks deferred."""
    text, i, deferred, joined = blocks[i].text, i + 1, [], False
    while not closes(text):
        j = i
        while j < len(blocks) and blocks[j].kind in INTERRUPTIONS:
            j += 1
        nxt = blocks[j] if j < len(blocks) else None
        if nxt is None or nxt.kind != TEXT or DATELINE.match(nxt.text):
            if not joined and nxt is not None and not reads_as_body(text):
                return Block(HEAD, text), i, deferred
            return Block(PARA, text, extra="open"), i, deferred
        if not continues(nxt.text):
            next_is_headline = _headline_run(blocks, j) is not None
            clause_after_head = after_head and any(c in text for c in "，,")
            if not joined and not reads_as_body(text) and (next_is_headline or not clause_after_head):
                # A short phrase, balanced, no stop inside, not opening like a sentence: a heading.
                # A clause right under a section heading is instead the first half of the section's
                # opening paragraph ("实打实帮扶" / "在摸清底数的基础上,葫芦岛各级工会" / "瞄准…").
                return Block(HEAD, text), i, deferred
            if next_is_headline:
                return Block(PARA, text, extra="open"), i, deferred
        deferred.extend(blocks[i:j])
        text, i, joined = text + nxt.text, j + 1, True
    if (text.rstrip(" ").endswith(("”", "」")) and i < len(blocks) and blocks[i].kind == TEXT
            and ATTRIBUTION.match(blocks[i].text)):
        text, i = text + blocks[i].text, i + 1  # "“…不高。”" + "张树国说。"
    return Block(PARA, text), i, deferred


def _article_starts(blocks: list[Block]) -> list[int]:
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
        anchor = b.kind in (BYLINE, DATE) or (b.kind == PARA and bool(DATELINE.match(b.text)))
        if anchor and k > 0 and blocks[k - 1].kind in HEADISH:
            starts.add(group_start(k - 1))
        elif b.kind in (MD, COLUMN):
            starts.add(group_start(k))
        elif b.kind == CREDIT and (head := _photo_title(blocks, k)) is not None:
            starts.add(group_start(head))
    return sorted(starts)


def _photo_title(blocks: list[Block], credit: int) -> int | None:
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
          and sum(map(len, paras)) <= PHOTO_MAX_CHARS and bool(WHEN.match(paras[0])))
    return j if ok else None


def _article(blocks: list[Block], aid: str, source: str, page_date: str | None,
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
        if b.kind == PARA and (m := DATELINE.match(text)):
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


def _headline(group: list[Block]) -> tuple[str, str, dict[str, str]]:
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
