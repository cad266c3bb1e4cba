"""The judging page's service (`zhsearch judge`): one pooled (query, document) at a time, graded by key.

Routes: `GET /` the page; `GET /api/state`; `POST /api/grade {"position", "grade"}`,
`POST /api/skip {"position"}`, `POST /api/back {"position"}`, each answering the new state. An
action for another position than the one shown (a second tab) answers 409, so nothing is graded
twice by mistake. Meant for loopback: it has no authentication.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from eval.judging import Judging, StaleActionError

STATIC_DIR = Path(__file__).resolve().parent / "static"


class Action(BaseModel):
    """A key pressed on the page, for the item at `position`."""

    model_config = ConfigDict(extra="forbid")

    position: int = Field(ge=0, description="The position shown when the key was pressed.")


class GradeAction(Action):
    """A grade given to the item at `position`."""

    grade: int = Field(ge=0, le=2, description="0 not relevant, 1 related, 2 answers it.")


def create_judge_app(judging: Judging) -> FastAPI:
    """The page and its four routes over one Judging."""
    app = FastAPI(title="zhsearch judge", docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(StaleActionError)
    def stale(_: Request, err: StaleActionError) -> JSONResponse:
        return JSONResponse({"error": "stale", "message": str(err), "state": judging.state()}, status_code=409)

    @app.exception_handler(OSError)
    def unwritable(_: Request, err: OSError) -> JSONResponse:
        return JSONResponse({"error": "unwritable", "message": f"the grade was not saved: {err}"}, status_code=507)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "judge.html")

    @app.get("/api/state")
    def state() -> dict:
        return judging.state()

    @app.post("/api/grade")
    def grade(action: GradeAction) -> dict:
        return judging.grade(action.position, action.grade)

    @app.post("/api/skip")
    def skip(action: Action) -> dict:
        return judging.skip(action.position)

    @app.post("/api/back")
    def back(action: Action) -> dict:
        return judging.back(action.position)

    return app
