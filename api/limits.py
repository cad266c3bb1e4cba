"""Request size limits: refuse oversized bodies (413) and query strings (414) before any parsing."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response

MAX_QUERY_BYTES = 16384  # a 512-character Chinese q is ~4.6 KB percent-encoded: it must reach validation (422)


class BodyTooLarge(Exception):
    """Raised from `receive` once more than the allowed bytes have arrived."""


class BodyLimit:
    """Pure ASGI middleware: answers 413 for a body over `max_bytes`, 414 for a long query string.

    A declared Content-Length over the limit is refused before the app runs. A body without one
    (chunked) is counted as it streams: the read that crosses the limit raises `BodyTooLarge`
    into the app, whatever the app answers is dropped, and the client gets the 413. Invariant:
    the app never sees more than `max_bytes` of body.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, max_query_bytes: int = MAX_QUERY_BYTES) -> None:
        if max_bytes < 0 or max_query_bytes < 0:
            raise ValueError(f"limits must be >= 0, got max_bytes={max_bytes}, max_query_bytes={max_query_bytes}")
        self.app, self.max_bytes, self.max_query_bytes = app, max_bytes, max_query_bytes

    def too_large(self) -> Message:
        return error_response(413, "payload too large",
                              f"the request body is larger than allowed: send at most {self.max_bytes} bytes "
                              "(for POST /articles, fewer or shorter articles per request)")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if len(query) > self.max_query_bytes:
            response = error_response(414, "uri too long", f"the query string has {len(query)} bytes; send at most "
                                      f"{self.max_query_bytes} bytes, or put long input in a POST body")
            await response(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                response = error_response(400, "bad request", f"Content-Length {declared.decode('latin-1')!r} is not "
                                          "a number of bytes")
                await response(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                await self.too_large()(scope, receive, send)
                return

        received, refused, started = 0, False, False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                raise BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the app's answer to a refused body is replaced by the 413 below
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:  # BodyTooLarge, or the app's own error about it (possibly wrapped in a group)
            if not refused:
                raise
        if refused and not started:
            await self.too_large()(scope, receive, send)


def install_body_limit(app: ASGIApp, max_bytes: int, max_query_bytes: int = MAX_QUERY_BYTES) -> None:
    """Wrap `app` (a FastAPI/Starlette app, before it starts) in `BodyLimit` as its outermost middleware."""
    app.add_middleware(BodyLimit, max_bytes=max_bytes, max_query_bytes=max_query_bytes)
