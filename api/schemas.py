"""Request and response models of the HTTP API; request bounds are declared here."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from search.views.facets import facet_names
from search.views.view import Grouping, Sorting

MAX_QUERY_CHARS = 512
MAX_K = 100
MAX_OFFSET = 1000

DATE_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"

Mode = Literal["bm25", "dense", "hybrid"]


class SearchRequest(BaseModel):
    """A search: the same fields as GET query parameters or as a POST JSON body."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="The query text; Whoosh syntax in bm25 mode.")
    k: int = Field(10, ge=1, le=MAX_K, description="Hits per page.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Hits to skip (paging).")
    mode: Mode = Field("hybrid", description="bm25 (keywords), dense (semantic) or hybrid (both, fused).")
    alpha: float | None = Field(None, ge=0.0, le=1.0,
                                description="A fixed dense weight for this query (weighted fusion); default: adaptive.")
    fusion: Literal["adaptive", "weighted", "rrf"] | None = Field(None, description="How hybrid fuses its legs.")
    source: str | None = Field(None, max_length=256, description="Only hits from this source page/file.")
    article_id: str | None = Field(None, max_length=256, description="Only hits from this article.")
    date_from: str | None = Field(None, pattern=DATE_PATTERN, description="Only articles dated on or after (YYYY[-MM[-DD]]; a date of a month or a year meets a range it overlaps).")
    date_to: str | None = Field(None, pattern=DATE_PATTERN, description="Only articles dated on or before (YYYY[-MM[-DD]]; a date of a month or a year meets a range it overlaps).")
    explain: bool = Field(False, description="Each hit with why it ranks there: each leg's score, rank and normalised "
                                             "value, the dense weight and why, what article context added.")
    group: Grouping = Field(
        "paragraph", description="article: one result per article, ranked by its best paragraph, with its best 1-3 "
                                 "paragraphs (paging and total count articles).")
    sort: Sorting = Field(
        "relevance", description="date: newest first (undated last), ties by relevance, within the candidate pool "
                                 "(`pool` in the response says which).")
    facets: str | None = Field(None, max_length=64, description="Comma-separated: source, month. Counts of the pool's "
                                                                "results per source page and per month.")
    dedup: bool = Field(True, description="Copies of one story (reprints, marked at ingest as near-duplicates) shown "
                                          "once, where the first of them ranks, its `similar` naming the others; "
                                          "false: every copy.")

    @field_validator("facets")
    @classmethod
    def known_facets(cls, value: str | None) -> str | None:
        return None if value is None else ",".join(facet_names(value))

    def facet_names(self) -> tuple[str, ...]:
        """The facets asked for (validated), in order."""
        return facet_names(self.facets)

    @field_validator("q")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("q is blank: give some words to search for")
        return value.strip()


class HighlightOut(BaseModel):
    start: int
    end: int
    text: str


class HitOut(BaseModel):
    rank: int
    score: float
    paragraph_id: str
    article_id: str
    title: str
    text: str
    source: str
    position: int
    date: str | None = None
    highlights: list[HighlightOut]
    explain: dict[str, Any] | None = Field(None, description="With explain=true: why this hit ranks here.")
    similar: list[str] = Field(default_factory=list, description="The other articles of this article's story: its "
                                                                 "near-duplicate copies (reprints).")


class ArticleHitOut(BaseModel):
    """An article result (group=article): ranked by its best paragraph; `hits` are its best paragraphs."""

    rank: int
    score: float
    article_id: str
    title: str
    source: str
    date: str | None = None
    hits: list[HitOut]
    similar: list[str] = Field(default_factory=list, description="The other articles of its story (copies).")


class FacetValueOut(BaseModel):
    value: str
    count: int


class PoolOut(BaseModel):
    """The candidates a grouped, date-sorted or faceted result was arranged from."""

    paragraphs: int
    matches: int | None = Field(None, description="bm25: paragraphs matching at all (the pool may hold the best "
                                                  "10,000 of them).")
    what: str


class SearchResponse(BaseModel):
    query: str
    mode: Mode
    took_ms: float
    total: int = Field(description="Results that can be paged through: paragraphs, or articles with group=article.")
    total_relation: Literal["eq", "lte"] = Field("eq", description=(
        "eq: total is exact; lte: an upper bound (with dedup, copies of a story ranked below the results fetched "
        "for this page are still counted), as Elasticsearch's hits.total.relation says of its own lower bounds."))
    offset: int
    k: int
    group: Grouping = "paragraph"
    sort: Sorting = "relevance"
    dedup: bool = True
    hits: list[HitOut] = Field(description="Paragraph results (empty with group=article).")
    articles: list[ArticleHitOut] | None = Field(None, description="Article results, with group=article.")
    facets: dict[str, list[FacetValueOut]] | None = Field(None, description="With facets=: counts over the pool.")
    pool: PoolOut | None = Field(None, description="With group, sort=date or facets: what the results were drawn "
                                                   "from.")


class ParagraphOut(BaseModel):
    paragraph_id: str
    article_id: str
    position: int
    title: str
    text: str
    source: str


class ArticleOut(BaseModel):
    article_id: str
    title: str
    subtitle: str
    byline: str
    source: str
    date: str | None
    captions: list[str]
    metadata: dict[str, str]
    paragraphs: list[ParagraphOut]


class RelatedArticleOut(BaseModel):
    article_id: str
    title: str
    source: str
    date: str | None = None
    score: float = Field(description="Fused closeness: its paragraphs' vectors and its title's words (higher: closer).")


class RelatedOut(BaseModel):
    article_id: str
    related: list[RelatedArticleOut]


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    message: str = ""
    paragraphs: int = 0
    articles: int = 0
    model: str = ""
    index: str = ""
    backend: str = ""


class StatsOut(BaseModel):
    articles: int
    paragraphs: int
    sources: list[str]
    model: dict[str, object]
    tokenizer: dict[str, object]
    index: str
    index_bytes: int
    built_at: str
    build_seconds: float
    vector_index: str = Field(description='"exact" or "ivf<lists>": how the dense leg searches the largest segment.')
    sentence_vectors: int = Field(
        description="Sentence vectors searched beside paragraph vectors (0: none, or the index was built without)."
    )
    segments: int = Field(description="Segments the index is made of (merges fold them together).")
    deleted_paragraphs: int = Field(description="Deleted or replaced paragraphs still in segments, until a merge drops them.")
    commit: str = Field(description="The commit point served.")
    backend: str = Field("embedded", description="The engine holding the index.")
    synonyms: dict[str, object] | None = Field(
        None, description="The synonym file (ZHSEARCH_SYNONYMS): its rules, and why its last edit was not taken, if so.")
    model_runtime: dict[str, str] = Field(
        default_factory=dict, description='What encodes now, e.g. {"queries": "onnx/int8", "passages": "onnx/float32"} '
                                          "(`model` is what built the index).")


class ArticleIn(BaseModel):
    """An article to add or replace: the text splits into paragraphs at line breaks."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=256, pattern=r"^[^/\s]+$", description="Stable id (no slashes or spaces).")
    title: str = Field("", max_length=1000)
    text: str = Field(min_length=1, max_length=200_000)
    subtitle: str = Field("", max_length=1000)
    byline: str = Field("", max_length=1000)
    date: str | None = Field(None, pattern=DATE_PATTERN)
    source: str = Field("api", max_length=256)

    @field_validator("text")
    @classmethod
    def has_words(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is blank")
        return value


class ArticlesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    articles: list[ArticleIn] = Field(min_length=1, max_length=100)

    @field_validator("articles")
    @classmethod
    def unique_ids(cls, value: list[ArticleIn]) -> list[ArticleIn]:
        ids = [a.id for a in value]
        if len(ids) != len(set(ids)):
            raise ValueError("article ids repeat within the batch")
        return value


class WriteOut(BaseModel):
    added: list[str]
    paragraphs: int
    generation: str = Field(description="The commit point the write is visible in (commit-<generation>).")


class DeleteOut(BaseModel):
    deleted: str
    paragraphs: int
    generation: str = Field(description="The commit point the delete is visible in (commit-<generation>).")


class ErrorOut(BaseModel):
    error: str
    message: str
