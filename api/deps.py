"""Dependencies of the routes: the searcher loaded at start-up, or a 503 naming the problem."""

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ServiceError
from api.live.holder import SearcherHolder
from search.hybrid import Searcher


def current_searcher(holder: SearcherHolder) -> Searcher:
    """The searcher of `holder`'s current commit point; 503 with the reason (and its fix) while there is none."""
    found = holder.get()
    if found is None:
        raise ServiceError(503, "index unavailable", holder.problem or "index not loaded")
    return found


def get_searcher(request: Request) -> Searcher:
    """The searcher of the current commit point, as a route's dependency."""
    return current_searcher(request.app.state.holder)


bearer = HTTPBearer(auto_error=False, description="The write token (ZHSEARCH_WRITE_TOKEN).")


def require_writer(request: Request,
                   credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
    """Writes need `Authorization: Bearer <ZHSEARCH_WRITE_TOKEN>`; with no token configured they are off."""
    token = request.app.state.write_token
    if not token:
        raise ServiceError(403, "writes disabled", "this service accepts no writes: set ZHSEARCH_WRITE_TOKEN to enable them")
    given = credentials.credentials if credentials else ""
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise ServiceError(401, "unauthorized", "writes need the header 'Authorization: Bearer <write token>'")


SearcherDep = Annotated[Searcher, Depends(get_searcher)]
WriterDep = Annotated[None, Depends(require_writer)]
