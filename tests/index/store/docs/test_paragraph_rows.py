"""A segment's paragraphs read by row from the mapped file, against the paragraphs that were written."""

import pytest

from index.models import Article, Paragraph
from index.store.docs.docstore import PARAGRAPHS_FILE, DocStore
from index.store.docs.json_lines import DamagedRecordError, JsonLines, LinesError
from index.store.docs.paragraph_rows import ParagraphRows


def written(tmp_path, ids: list[str]) -> list[Paragraph]:
    """Paragraphs of `ids` (article id: before '.p') saved by DocStore, in this order."""
    paragraphs = [Paragraph(pid, pid.rsplit(".p", 1)[0], int(pid.rsplit(".p", 1)[1]), f"正文{n}「{pid}」", "标题",
                            "工人日报", "2025-01-0%d" % (1 + n % 9) if n % 3 else None) for n, pid in enumerate(ids)]
    articles = [Article(aid, "标题", ()) for aid in dict.fromkeys(p.article_id for p in paragraphs)]
    DocStore.build(articles, paragraphs).save(tmp_path)
    return paragraphs


IDS = ["a.p000", "a.p001", 'b"q\\.p000', "文章.p000", "文章.p001"]


def test_rows_in_file_order_are_read_line_by_line(tmp_path):
    paragraphs = written(tmp_path, IDS)
    rows = ParagraphRows.open(tmp_path / PARAGRAPHS_FILE, IDS)
    assert rows.order is None and len(rows) == 5
    assert list(rows) == paragraphs and rows[-1] == paragraphs[-1] and rows[1:4] == paragraphs[1:4]
    with pytest.raises(IndexError):
        rows[5]


def test_rows_in_another_order_than_the_file_are_found_by_id(tmp_path):
    paragraphs = written(tmp_path, IDS)
    order = [3, 0, 4, 2, 1]
    rows = ParagraphRows.open(tmp_path / PARAGRAPHS_FILE, [IDS[i] for i in order])
    assert list(rows.order) == order
    assert list(rows) == [paragraphs[i] for i in order]


@pytest.mark.parametrize("ids", [IDS[:4], IDS + ["c.p000"], IDS[:4] + ["c.p000"]])
def test_other_paragraphs_than_the_rows_are_an_error(tmp_path, ids):
    written(tmp_path, IDS)
    with pytest.raises(LinesError, match="not the same paragraphs"):
        ParagraphRows.open(tmp_path / PARAGRAPHS_FILE, ids)


def test_lines_without_a_last_newline_or_with_blank_lines(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"a": 1}\n\n{"a": 2}\n{"a": 3}')
    lines = JsonLines(path)
    assert [lines.line(i) for i in range(len(lines))] == [b'{"a": 1}', b'{"a": 2}', b'{"a": 3}']
    path.write_bytes(b"")
    assert len(JsonLines(path)) == 0
    assert len(ParagraphRows.open(path, [])) == 0


def test_a_damaged_line_is_an_error_naming_the_file_and_line(tmp_path):
    written(tmp_path, IDS)
    path = tmp_path / PARAGRAPHS_FILE
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"text": "', b'"text": ')
    lines[2] = lines[2].replace(b'"title": ', b'"heading": ')
    path.write_bytes(b"".join(lines))
    rows = ParagraphRows.open(path, IDS)  # ids intact: it opens
    assert rows[0].id == "a.p000"
    for row in (1, 2):
        with pytest.raises(DamagedRecordError, match=f"paragraphs.jsonl: line {row + 1} cannot be read"):
            rows[row]
