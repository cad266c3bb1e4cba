"""Search results and documents -> API response models."""

from __future__ import annotations

from api.schemas import ArticleOut, HighlightOut, HitOut, ParagraphOut, SearchResponse
from index.models import Article, Paragraph
from search.hybrid import SearchResult


def paragraph_out(paragraph: Paragraph) -> ParagraphOut:
    return ParagraphOut(paragraph_id=paragraph.id, article_id=paragraph.article_id, position=paragraph.position,
                        title=paragraph.title, text=paragraph.text, source=paragraph.source)


def article_out(article: Article, paragraphs: list[Paragraph]) -> ArticleOut:
    return ArticleOut(article_id=article.id, title=article.title, subtitle=article.subtitle, byline=article.byline,
                      source=article.source, date=article.date, captions=list(article.captions),
                      metadata=dict(article.metadata), paragraphs=[paragraph_out(p) for p in paragraphs])


def search_response(result: SearchResult, offset: int, k: int) -> SearchResponse:
    hits = [
        HitOut(rank=hit.rank, score=round(hit.score, 6), paragraph_id=hit.paragraph.id,
               article_id=hit.paragraph.article_id, title=hit.paragraph.title, text=hit.paragraph.text,
               source=hit.paragraph.source, position=hit.paragraph.position,
               highlights=[HighlightOut(start=s.start, end=s.end, text=s.text) for s in hit.highlights])
        for hit in result.hits
    ]
    return SearchResponse(query=result.query, mode=result.mode, took_ms=result.took_ms, total=result.total,
                          offset=offset, k=k, hits=hits)
