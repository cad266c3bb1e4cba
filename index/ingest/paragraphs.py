"""Article -> Paragraphs, with ids stable across rebuilds."""

from __future__ import annotations

from index.models import Article, Paragraph, paragraph_id


def split_article(article: Article) -> list[Paragraph]:
    """The article's body paragraphs as indexable units, in reading order.

    Ids depend only on the article id and the paragraph's position, so the same
    source always yields the same ids. Blank paragraphs are skipped before numbering.
    """
    texts = [text.strip() for text in article.paragraphs if text.strip()]
    return [
        Paragraph(paragraph_id(article.id, n), article.id, n, text, article.title, article.source, article.date)
        for n, text in enumerate(texts)
    ]


def passage_texts(paragraphs: list[Paragraph]) -> list[str]:
    """What the dense encoder sees for each paragraph.

    The title leads a paragraph only when it is its article's only one: there it tells
    documents apart, while in a many-paragraph article it makes every paragraph look
    alike (on the judged seed set, paragraph-level dense nDCG@10 0.818 without, 0.797 with).
    """
    per_article: dict[str, int] = {}
    for paragraph in paragraphs:
        per_article[paragraph.article_id] = per_article.get(paragraph.article_id, 0) + 1
    return [
        f"{p.title}\n{p.text}" if p.title and per_article[p.article_id] == 1 else p.text
        for p in paragraphs
    ]
