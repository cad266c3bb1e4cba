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


def passage_text(paragraph: Paragraph) -> str:
    """What the dense encoder sees: the title gives a short paragraph its context."""
    return f"{paragraph.title}\n{paragraph.text}" if paragraph.title else paragraph.text
