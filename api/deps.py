"""Dependencies of the routes: the searcher loaded at start-up, or a 503 naming the problem."""

from typing import Annotated

from fastapi import Depends, Request

from api.errors import ServiceError
from search.hybrid import Searcher


def get_searcher(request: Request) -> Searcher:
    """The app's searcher; 503 with the reason (and its fix) while there is none."""
    found = request.app.state.searcher
    if found is None:
        raise ServiceError(503, "index unavailable", request.app.state.problem or "index not loaded")
    return found


SearcherDep = Annotated[Searcher, Depends(get_searcher)]
