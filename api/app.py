"""The FastAPI app: create_app(settings); routes stay thin, the searcher loads once at start-up."""

import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from api.convert import article_out, paragraph_out, related_out, search_response, stats_out, to_article
from api.deps import SearcherDep, WriterDep, current_searcher
from api.errors import ServiceError, install_error_handlers
from api.live.holder import SearcherHolder
from api.limits import install_body_limit
from api.observe import install_observability
from api.schemas import (ArticleOut, ArticlesIn, DeleteOut, ErrorOut, HealthOut, ParagraphOut, RelatedOut, SearchRequest,
                         SearchResponse, StatsOut, WriteOut)
from api.live.group_commit import GroupCommitter
from api.live.admission import WriteAdmission
from api.live.merge_scheduler import MergeScheduler
from index.commits import IndexNotFoundError, UnreadableCommitError, WriterBusyError, remove_unreferenced, write_lock
from index.manifest import IndexMismatchError
from index.milvus.connection import MilvusUnavailableError
from index.model.embed import Encoder
from index.settings import Settings
from index.committers import committer_for
from index.ingest.paragraphs import split_article
from index.milvus.rows import RowTooLargeError, check_sizes
from index.update import PreparedUpdate, prepare
from index.writer import DiskFullError, IndexChangedError, UnknownArticleError, preload
from search.filters import Filter
from search.fusion import with_overrides
from search.hybrid import Searcher
from search.views.view import View

log = logging.getLogger("zhsearch.api")
STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_BODY_BYTES = 8 * 1024 * 1024  # a batch of 100 long articles fits; larger bodies get 413 unread
ERRORS = {404: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}}
WRITE_ERRORS = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 409: {"model": ErrorOut},
                429: {"model": ErrorOut}, 507: {"model": ErrorOut}, **ERRORS}


def create_app(settings: Settings, encoder: Encoder | None = None, merges: bool = True) -> FastAPI:
    """The app over `settings.index_dir`; `encoder` may be injected (tests use a fake one); `merges`: run
    background merges after writes."""
    holder = SearcherHolder(settings, encoder)
    embedded = settings.backend == "embedded"  # Milvus merges (compacts) its own segments
    scheduler = MergeScheduler(settings.index_dir, settings.ann_threshold, holder.refresh,
                               niceness=settings.merge_nice) if merges and embedded else None

    def commit(batch: list[PreparedUpdate]) -> list[Exception | None]:
        """One group commit, visible before any of its writers is answered (group_commit.py)."""
        searcher = current_searcher(holder)
        committer = committer_for(settings, searcher.tokenizer, searcher.dense.encoder.config(),
                                  getattr(searcher.corpus, "conn", None))  # a Milvus corpus's open connection
        outcomes = committer.commit(batch)
        holder.load()
        if scheduler is not None:
            scheduler.request()
        return outcomes

    committer = GroupCommitter(commit)
    admission = WriteAdmission(settings.max_writes)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if embedded:
            recover(settings.index_dir)
        if settings.write_token:  # writes are on: what the first one would load, now
            preload(settings.index_dir if embedded else None)
        holder.load()
        if holder.problem:
            log.error("index not loaded: %s", holder.problem)
        holder.watch()
        if scheduler is not None:
            scheduler.start()
            scheduler.request()  # merges a previous run left due
        yield
        if scheduler is not None:
            scheduler.stop()
        holder.stop()

    app = FastAPI(title="zhsearch", version="0.1.0", lifespan=lifespan,
                  description="Full-text and semantic search over Chinese news articles.")
    app.state.holder = holder
    app.state.write_token = settings.write_token
    app.state.merges = scheduler
    install_error_handlers(app)
    install_observability(app, settings.log_queries).watch_writes(lambda: admission.admitted, admission.limit)
    install_body_limit(app, MAX_BODY_BYTES)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        """The search page (plain HTML, CSS and JS; no build step)."""
        return FileResponse(STATIC_DIR / "index.html")

    def run_search(searcher: Searcher, req: SearchRequest, request: Request) -> Response:
        """The search as JSON, serialised once by pydantic: FastAPI would validate the built response
        again and encode it through jsonable_encoder (~0.15 ms a request more, paired on loopback). The routes keep
        response_model=SearchResponse, so the schema is the same."""
        params = with_overrides(searcher.defaults, req.fusion, req.alpha)
        flt = Filter(req.source, req.article_id, req.date_from, req.date_to)
        view = View(req.group, req.sort, req.facet_names(), req.dedup)
        result = searcher.search(req.q, req.mode, req.k, req.offset, params, flt, explain=req.explain, view=view)
        shown = len(result.articles) if req.group == "article" else len(result.hits)
        request.state.search = {"mode": req.mode, "took_ms": result.took_ms, "hits": shown,
                                "total": result.total, "query": req.q}
        body = search_response(result, req.offset, req.k).model_dump_json(by_alias=True)
        return Response(content=body, media_type="application/json")

    @app.get("/search", response_model=SearchResponse, responses=ERRORS)
    def search_get(req: Annotated[SearchRequest, Query()], searcher: SearcherDep, request: Request) -> Response:
        """Search by query parameters: /search?q=工匠学院&k=10&mode=hybrid&offset=0."""
        return run_search(searcher, req, request)

    @app.post("/search", response_model=SearchResponse, responses=ERRORS)
    def search_post(req: SearchRequest, searcher: SearcherDep, request: Request) -> Response:
        """Search with a JSON body of the same fields as GET /search."""
        return run_search(searcher, req, request)

    @app.get("/paragraphs/{paragraph_id}", response_model=ParagraphOut, responses=ERRORS)
    def get_paragraph(paragraph_id: str, searcher: SearcherDep) -> ParagraphOut:
        """One paragraph by id."""
        paragraph = searcher.corpus.paragraph(paragraph_id)
        if paragraph is None:
            raise ServiceError(404, "not found", f"no paragraph {paragraph_id!r}; ids look like '<article id>.p000'")
        return paragraph_out(paragraph)

    @app.get("/articles/{article_id}", response_model=ArticleOut, responses=ERRORS)
    def get_article(article_id: str, searcher: SearcherDep) -> ArticleOut:
        """One article with its paragraphs."""
        article = searcher.corpus.article(article_id)
        if article is None:
            raise ServiceError(404, "not found", f"no article {article_id!r}")
        return article_out(article, searcher.corpus.article_paragraphs(article_id))

    @app.get("/articles/{article_id}/related", response_model=RelatedOut, responses=ERRORS)
    def get_related(article_id: str, searcher: SearcherDep,
                    k: Annotated[int, Query(ge=1, le=20, description="Related articles to return.")] = 5) -> RelatedOut:
        """The articles closest to this one: its paragraphs' vectors and its title's words, never itself or an
        exact duplicate of it."""
        try:
            found = searcher.related(article_id, k)
        except UnknownArticleError:
            raise ServiceError(404, "not found", f"no article {article_id!r}") from None
        return related_out(searcher, article_id, found)

    def write(upserts: list, deletes: list[str]) -> str:
        """Embed, then commit with whatever else is being written; returns the commit point it is visible in.
        Runs once admitted (admission.py), on the commit point current then: a queued write pins no searcher."""
        searcher = current_searcher(holder)
        if not embedded:  # what a Milvus field cannot hold is refused before anything is embedded
            try:
                check_sizes(upserts, [p for a in upserts for p in split_article(a)])
            except RowTooLargeError as err:
                raise ServiceError(422, "too large for Milvus", str(err)) from err
        update = prepare(upserts, deletes, searcher.dense.encoder, searcher.corpus.info.sentence_vectors,
                         searcher.tokenizer)
        try:
            committer.submit(update)
        except (WriterBusyError, IndexChangedError, IndexMismatchError) as err:  # another writer, or a rebuild
            raise ServiceError(409, "index busy", str(err)) from err
        except (IndexNotFoundError, UnreadableCommitError) as err:
            raise ServiceError(503, "index unavailable", str(err)) from err
        except DiskFullError as err:
            raise ServiceError(507, "insufficient storage", str(err)) from err
        except RowTooLargeError as err:  # found at the commit (a paragraph of too many distinct words)
            raise ServiceError(422, "too large for Milvus", str(err)) from err
        if holder.problem:
            raise ServiceError(503, "stored, not yet searchable", f"the write is stored but the new commit point "
                               f"could not be opened: {holder.problem}")
        return holder.get().corpus.info.version

    @app.post("/articles", response_model=WriteOut, responses=WRITE_ERRORS)
    async def post_articles(_: WriterDep, body: ArticlesIn) -> WriteOut:
        """Add or replace articles (by id); durable and visible to searches, whole, once this returns."""
        articles = [to_article(item) for item in body.articles]
        generation = await admission.run(write, articles, [])
        count = sum(len(a.paragraphs) for a in articles)
        return WriteOut(added=[a.id for a in articles], paragraphs=count, generation=generation)

    def delete(article_id: str) -> DeleteOut:
        count = len(current_searcher(holder).corpus.article_paragraphs(article_id))
        try:
            generation = write([], [article_id])
        except UnknownArticleError as err:  # unknown, or deleted by another writer meanwhile
            raise ServiceError(404, "not found", f"no article {article_id!r}") from err
        return DeleteOut(deleted=article_id, paragraphs=count, generation=generation)

    @app.delete("/articles/{article_id}", response_model=DeleteOut, responses=WRITE_ERRORS)
    async def delete_article(_: WriterDep, article_id: str) -> DeleteOut:
        """Delete an article with all its paragraphs."""
        return await admission.run(delete, article_id)

    @app.get("/stats", response_model=StatsOut, responses=ERRORS)
    def stats(searcher: SearcherDep) -> StatsOut:
        """Counts, sources, model, tokenizer, index size on disk and build time."""
        return stats_out(searcher)

    @app.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
    def health() -> JSONResponse | HealthOut:
        """200 once the index and model are loaded; 503 with the reason and the fix otherwise."""
        found = holder.get()
        if found is None:
            body = HealthOut(status="unavailable", message=holder.problem or "starting")
            return JSONResponse(body.model_dump(), status_code=503)
        info = found.corpus.info
        problem = backend_problem(found)
        if problem:
            body = HealthOut(status="unavailable", message=problem, backend=info.backend, index=info.location)
            return JSONResponse(body.model_dump(), status_code=503)
        return HealthOut(status="ok", paragraphs=info.paragraphs, articles=info.articles,
                         model=str(info.model.get("name", "")), index=info.location, backend=info.backend)

    return app


def backend_problem(searcher: Searcher) -> str:
    """Why the searcher's engine cannot answer now ("" when it can): Milvus is asked for its corpus record, within
    the timeout; the embedded engine is in this process."""
    ping = getattr(searcher.corpus, "ping", None)
    if ping is None:
        return ""
    try:
        ping()
    except MilvusUnavailableError as err:
        return str(err)
    return ""


def recover(index_dir) -> None:
    """At start-up: remove what a crashed writer or merge left behind, if no other writer is at work."""
    try:
        with write_lock(index_dir, timeout=0):
            removed = remove_unreferenced(index_dir)
        if removed:
            log.info("removed what no commit point lists: %s", ", ".join(removed))
    except (WriterBusyError, UnreadableCommitError, OSError) as err:  # a writer at work, a damaged commit
        # point (nothing may be removed then), or a read-only folder: nothing to do
        log.info("no clean-up at start: %s", err)
