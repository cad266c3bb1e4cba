"""Errors and their one mapping to HTTP: every error body is {"error", "message"}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from index.milvus.connection import MilvusUnavailableError
from index.store.docs.json_lines import DamagedRecordError

log = logging.getLogger("zhsearch.api")


class ServiceError(Exception):
    """An error with an HTTP status and a message for the client."""

    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.headers = status, error, message, headers


def error_response(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status, headers=headers)


def validation_message(err: RequestValidationError) -> str:
    """'field: problem' for each error, e.g. 'k: Input should be less than or equal to 100'."""
    parts = []
    for item in err.errors():
        where = ".".join(str(p) for p in item.get("loc", ()) if p not in ("query", "body"))
        parts.append(f"{where or 'request'}: {item.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Map validation, HTTP, service and unexpected errors to JSON bodies."""

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid request", validation_message(err))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, err: StarletteHTTPException) -> JSONResponse:
        message = str(err.detail)
        if err.status_code == 400 and "parsing the body" in message:  # FastAPI's words for undecodable bytes
            message = "the body could not be read: send JSON encoded as UTF-8 with content-type application/json"
        return error_response(err.status_code, "http error", message)

    @app.exception_handler(ServiceError)
    async def on_service(_: Request, err: ServiceError) -> JSONResponse:
        return error_response(err.status, err.error, err.message, err.headers)

    @app.exception_handler(MilvusUnavailableError)
    async def on_milvus(_: Request, err: MilvusUnavailableError) -> JSONResponse:
        log.warning("milvus unavailable: %s", err)
        return error_response(503, "backend unavailable", str(err))

    @app.exception_handler(DamagedRecordError)
    async def on_damaged(_: Request, err: DamagedRecordError) -> JSONResponse:
        log.error("index damaged: %s", err)
        return error_response(500, "index damaged", str(err))

    @app.exception_handler(Exception)
    async def on_crash(_: Request, err: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "internal error", f"{type(err).__name__}: the server could not answer")
