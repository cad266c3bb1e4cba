"""Search results and documents -> API response models."""

from __future__ import annotations

from api.schemas import ArticleIn, ArticleOut, HighlightOut, HitOut, ParagraphOut, SearchResponse, StatsOut
from index.ingest.sources import split_lines
from index.models import Article, Paragraph
from search.hybrid import Searcher, SearchResult


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
               source=hit.paragraph.source, position=hit.paragraph.position, date=hit.paragraph.date,
               highlights=[HighlightOut(start=s.start, end=s.end, text=s.text) for s in hit.highlights])
        for hit in result.hits
    ]
    return SearchResponse(query=result.query, mode=result.mode, took_ms=result.took_ms, total=result.total,
                          offset=offset, k=k, hits=hits)


def index_bytes(snapshot) -> int:
    """Bytes on disk of what the snapshot's commit point lists (its segments and tombstones)."""
    total = 0
    for view in snapshot.views:
        total += sum(path.stat().st_size for path in view.segment.folder.rglob("*") if path.is_file())
        if view.info.deletes:
            total += (snapshot.index_dir / view.info.deletes).stat().st_size
    return total


def stats_out(searcher: Searcher) -> StatsOut:
    snapshot = searcher.snapshot
    manifest = snapshot.manifest
    largest = max(snapshot.views, key=lambda v: v.segment.size, default=None)
    return StatsOut(articles=manifest.articles, paragraphs=manifest.paragraphs, sources=snapshot.sources(),
                    model=manifest.model, tokenizer=manifest.tokenizer, index=str(snapshot.index_dir),
                    index_bytes=index_bytes(snapshot), built_at=manifest.created_at,
                    build_seconds=manifest.build_seconds,
                    vector_index=largest.segment.vectors.kind if largest is not None else "exact",
                    sentence_vectors=manifest.sentences, segments=len(snapshot.views),
                    deleted_paragraphs=sum(v.info.deleted_rows for v in snapshot.views),
                    commit=snapshot.name.removesuffix(".json"))


def to_article(item: ArticleIn) -> Article:
    """An Article from a write request (paragraphs at line breaks, as JSONL ingest does)."""
    return Article(id=item.id, title=item.title.strip(), paragraphs=split_lines(item.text),
                   subtitle=item.subtitle.strip(), byline=item.byline.strip(), source=item.source, date=item.date)
