"""Search results and documents -> API response models."""

from __future__ import annotations

from api.schemas import (ArticleHitOut, ArticleIn, ArticleOut, FacetValueOut, HighlightOut, HitOut, ParagraphOut,
                         PoolOut, RelatedArticleOut, RelatedOut, SearchResponse, StatsOut)
from index.ingest.sources import split_lines
from index.model.probe import without_probe
from index.models import Article, Paragraph
from search.hybrid import ArticleHit, Hit, Searcher, SearchResult


def paragraph_out(paragraph: Paragraph) -> ParagraphOut:
    return ParagraphOut(paragraph_id=paragraph.id, article_id=paragraph.article_id, position=paragraph.position,
                        title=paragraph.title, text=paragraph.text, source=paragraph.source)


def article_out(article: Article, paragraphs: list[Paragraph]) -> ArticleOut:
    return ArticleOut(article_id=article.id, title=article.title, subtitle=article.subtitle, byline=article.byline,
                      source=article.source, date=article.date, captions=list(article.captions),
                      metadata=dict(article.metadata), paragraphs=[paragraph_out(p) for p in paragraphs])


def hit_out(hit: Hit) -> HitOut:
    """A paragraph result as the API returns it."""
    return HitOut(rank=hit.rank, score=round(hit.score, 6), paragraph_id=hit.paragraph.id,
                  article_id=hit.paragraph.article_id, title=hit.paragraph.title, text=hit.paragraph.text,
                  source=hit.paragraph.source, position=hit.paragraph.position, date=hit.paragraph.date,
                  highlights=[HighlightOut(start=s.start, end=s.end, text=s.text) for s in hit.highlights],
                  explain=hit.explain, similar=hit.similar)


def article_hit_out(found: ArticleHit) -> ArticleHitOut:
    """An article result (group=article): its best paragraph's title, source and date, and its hits."""
    first = found.hits[0].paragraph
    return ArticleHitOut(rank=found.rank, score=round(found.score, 6), article_id=found.article_id, title=first.title,
                         source=first.source, date=first.date, hits=[hit_out(hit) for hit in found.hits],
                         similar=found.similar)


def search_response(result: SearchResult, offset: int, k: int) -> SearchResponse:
    """A search's result as the API returns it (the page of `k` from `offset`)."""
    view, pool = result.view, result.pool
    return SearchResponse(
        query=result.query, mode=result.mode, took_ms=result.took_ms, total=result.total,
        total_relation="eq" if result.total_exact else "lte", offset=offset, k=k,
        group=view.group, sort=view.sort, dedup=view.dedup, hits=[hit_out(hit) for hit in result.hits],
        articles=[article_hit_out(a) for a in result.articles] if view.group == "article" else None,
        facets={name: [FacetValueOut(value=v, count=c) for v, c in values] for name, values in result.facets.items()}
        if view.facets else None,
        pool=PoolOut(paragraphs=pool.paragraphs, matches=pool.matches, what=pool.what) if pool else None)


def stats_out(searcher: Searcher) -> StatsOut:
    """GET /stats: what the searcher's corpus view holds and was built with."""
    corpus = searcher.corpus
    info = corpus.info
    return StatsOut(articles=info.articles, paragraphs=info.paragraphs, sources=corpus.sources(), model=without_probe(info.model),
                    tokenizer=info.tokenizer, index=info.location, index_bytes=corpus.disk_bytes(),
                    built_at=info.created_at, build_seconds=info.build_seconds,
                    vector_index=str(info.details.get("vector_index", "")), sentence_vectors=info.sentences,
                    segments=int(info.details.get("segments", 0)),
                    deleted_paragraphs=int(info.details.get("deleted_paragraphs", 0)), commit=info.version,
                    backend=info.backend, model_runtime=searcher.dense.encoder.describe(),
                    synonyms=synonyms_out(searcher))


def synonyms_out(searcher: Searcher) -> dict[str, object] | None:
    """/stats' synonyms: the file, its rule count and what is wrong with its last edit (None: no file)."""
    found = searcher.bm25.synonyms
    if found is None:
        return None
    return {"file": str(found.path), "rules": len(found.current()), "problem": found.problem}


def related_out(searcher: Searcher, article_id: str, found: list[tuple[str, float]]) -> RelatedOut:
    """GET /articles/{id}/related: each related article's title, source, date and score."""
    out = []
    for other, score in found:
        article = searcher.corpus.article(other)
        if article is not None:
            out.append(RelatedArticleOut(article_id=other, title=article.title, source=article.source,
                                         date=article.date, score=round(score, 6)))
    return RelatedOut(article_id=article_id, related=out)


def to_article(item: ArticleIn) -> Article:
    """An Article from a write request (paragraphs at line breaks, as JSONL ingest does)."""
    return Article(id=item.id, title=item.title.strip(), paragraphs=split_lines(item.text),
                   subtitle=item.subtitle.strip(), byline=item.byline.strip(), source=item.source, date=item.date)
