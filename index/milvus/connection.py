"""One Milvus client for a corpus: every call bounded by a timeout, every failure one named error.

pymilvus retries an unavailable server for minutes when a call has no timeout, and raises either
MilvusException or a bare grpc.RpcError: here every call has `timeout=` and any failure becomes
MilvusUnavailableError naming the address and the reason (the API answers it with 503).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence, TypeVar

from index.settings import Settings

T = TypeVar("T")



WINDOW = 16_384  # Milvus's largest limit (+ offset) of one search or query


def literal(value: str) -> str:
    """A Milvus string literal: quotes and backslashes escaped, everything else as it is (Milvus Lite reads no
    \\u escapes; a server reads both)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def one_of(field: str, values: Sequence[object]) -> str:
    """`field in [...]` of strings or numbers."""
    return f"{field} in [{', '.join(literal(v) if isinstance(v, str) else str(v) for v in values)}]"


class MilvusUnavailableError(RuntimeError):
    """Milvus did not answer in time or refused a call; the message names the address and the reason."""


class MilvusConfigError(ValueError):
    """The settings do not name a usable Milvus (no URI, a Lite file in a missing folder)."""


def redacted(uri: str) -> str:
    """The URI without credentials (user:password@ is never logged or reported)."""
    if "@" in uri and "://" in uri:
        scheme, rest = uri.split("://", 1)
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return uri


@dataclass
class Connection:
    """A MilvusClient with the corpus name and the timeout every call takes; thread-safe (gRPC channels are)."""

    client: Any  # pymilvus.MilvusClient
    uri: str
    name: str
    timeout: float

    def collection(self, kind: str) -> str:
        """The Milvus collection of one part of the corpus (`kind` in KINDS)."""
        return f"{self.name}_{kind}"

    @property
    def location(self) -> str:
        return f"{redacted(self.uri)}#{self.name}"

    def call(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """client.<method>(*args, **kwargs, timeout=...) with any failure as MilvusUnavailableError."""
        return guarded(self.location, what, lambda: getattr(self.client, method)(*args, timeout=self.timeout, **kwargs))

    def by_id(self, kind: str, ids: Sequence[str], fields: list[str], what: str) -> list[dict]:
        """The rows of these primary keys that exist (any key: the expression is written here, not by pymilvus)."""
        found: list[dict] = []
        for start in range(0, len(ids), 1024):
            part = list(ids[start:start + 1024])
            found += self.call(what, "query", self.collection(kind), filter=one_of("id", part), output_fields=fields,
                               limit=len(part))
        return found

    def rows(self, kind: str, where: str, fields: list[str], what: str, batch: int = 2000) -> Iterator[list[dict]]:
        """Every row of <name>_<kind> meeting `where`, page by page (no cap: Milvus's 16,384-row window is paged
        through by an iterator that sees one snapshot)."""
        iterator = self.call(what, "query_iterator", self.collection(kind), batch_size=batch, filter=where,
                             output_fields=fields)
        try:
            while True:
                page = guarded(self.location, what, iterator.next)
                if not page:
                    return
                yield page
        finally:
            try:
                iterator.close()
            except Exception:  # closing after a failure: nothing left to release
                pass

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # closing a dead channel: nothing left to release
            pass


def guarded(location: str, what: str, action: Callable[[], T]) -> T:
    """Run `action`; a Milvus or gRPC failure becomes MilvusUnavailableError("Milvus at ... : reason")."""
    import grpc
    from pymilvus.exceptions import MilvusException

    try:
        return action()
    except MilvusException as err:
        raise MilvusUnavailableError(f"Milvus at {location} failed to {what}: {err.message} (code {err.code})") from err
    except grpc.RpcError as err:
        code = err.code() if hasattr(err, "code") else "?"
        detail = err.details() if hasattr(err, "details") else str(err)
        raise MilvusUnavailableError(f"Milvus at {location} failed to {what}: {code}: {detail}") from err


def connect(settings: Settings) -> Connection:
    """A connection to the Milvus the settings name (MilvusConfigError without one; MilvusUnavailableError when
    it does not answer within the timeout)."""
    from pathlib import Path

    uri = settings.milvus_uri
    if not uri:
        raise MilvusConfigError("ZHSEARCH_BACKEND=milvus needs ZHSEARCH_MILVUS_URI: a file path ending in .db "
                                "(Milvus Lite) or http://host:19530 (a server)")
    if "://" not in uri and not uri.startswith("unix:"):
        if not uri.endswith(".db"):
            raise MilvusConfigError(f"ZHSEARCH_MILVUS_URI={uri!r}: a Milvus Lite file must end in .db "
                                    "(or give http://host:19530 for a server)")
        if not Path(uri).parent.is_dir():
            raise MilvusConfigError(f"ZHSEARCH_MILVUS_URI={uri!r}: folder {Path(uri).parent} does not exist")
    from pymilvus import MilvusClient

    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)  # it logs each failed call with a trace; ours says why
    token = settings.milvus_token.get_secret_value() if settings.milvus_token is not None else ""
    location = f"{redacted(uri)}#{settings.milvus_collection}"
    make = lambda: MilvusClient(uri=uri, token=token, timeout=settings.milvus_timeout_s)  # noqa: E731
    try:
        client = guarded(location, "connect", make)
    except MilvusUnavailableError:  # pymilvus shares a channel per address and checks it after 30 s idle: one
        client = guarded(location, "connect", make)  # failed check fails that connect, the next one reconnects
    return Connection(client, uri, settings.milvus_collection, settings.milvus_timeout_s)
