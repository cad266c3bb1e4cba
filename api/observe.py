"""Observability: Prometheus metrics and one JSON log line per request."""

from __future__ import annotations

import json
import logging
import time

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

access_log = logging.getLogger("zhsearch.access")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """The app's own registry (one per app, so several apps in one process never collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("zhsearch_requests_total", "HTTP requests by route and status.",
                                ["route", "status"], registry=self.registry)
        self.searches = Counter("zhsearch_searches_total", "Searches answered, by mode.", ["mode"],
                                registry=self.registry)
        self.search_seconds = Histogram("zhsearch_search_seconds", "Search latency in seconds, by mode.", ["mode"],
                                        buckets=LATENCY_BUCKETS, registry=self.registry)


def log_line(record: dict[str, object]) -> str:
    """One JSON object, Chinese kept readable."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def install_observability(app: FastAPI, log_queries: bool) -> Metrics:
    """Count and time every request, log it as one JSON line, and serve /metrics."""
    metrics = Metrics()
    if not access_log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
        access_log.setLevel(logging.INFO)
        access_log.propagate = False

    @app.middleware("http")
    async def observe(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        elapsed = time.perf_counter() - started
        route = getattr(request.scope.get("route"), "path", "unmatched")
        metrics.requests.labels(route, str(response.status_code)).inc()
        record: dict[str, object] = {"method": request.method, "route": route, "status": response.status_code,
                                     "ms": round(elapsed * 1000, 2)}
        search = getattr(request.state, "search", None)
        if search is not None:
            metrics.searches.labels(search["mode"]).inc()
            metrics.search_seconds.labels(search["mode"]).observe(search["took_ms"] / 1000)
            record.update({k: v for k, v in search.items() if k != "query" or log_queries})
        access_log.info(log_line(record))
        return response

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        """Prometheus text format: request counts, searches and latency histograms per mode."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
