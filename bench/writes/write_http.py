"""Acknowledged to searchable over HTTP: one article posted, then searched for by a word only it holds."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from bench.common.http_load import running_server
from bench.common.memory import peak_rss_bytes
from bench.writes.write_common import TOKEN, article_body, fresh_articles, mb, summary


def http_visibility(index_dir: Path, fake: bool, work: Path, writes: int) -> dict[str, Any]:
    """POST one article, then search for a word only it holds: the POST's time, and found at once or not."""
    posts, searches, found = [], [], 0
    articles = fresh_articles(writes, seed=4, marker="zqmark")
    with running_server(index_dir, fake, work / "server-http.log") as server, httpx.Client(base_url=server.url,
                                                                                          timeout=60) as client:
        for article in articles:
            body = article_body(article)
            started = time.perf_counter()
            answer = client.post("/articles", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
            posts.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
            marker = article.paragraphs[0].rsplit(" ", 1)[1]
            started = time.perf_counter()
            hits = client.get("/search", params={"q": marker, "mode": "bm25", "k": 3}).json()["hits"]
            searches.append((time.perf_counter() - started) * 1000)
            found += any(h["article_id"] == article.id for h in hits)
        peak, ready = peak_rss_bytes(server.process.pid), server.ready_seconds
    return {"post": summary(posts), "search": summary(searches), "found_first_time": found, "writes": len(articles),
            "server_peak_rss": peak, "ready_seconds": ready}


def http_rows(h: dict[str, Any]) -> list[tuple[str, str]]:
    """The HTTP phase's rows."""
    return [("HTTP: POST one article (embedding included), p50 / p99",
             f"{h['post']['p50']:.0f} / {h['post']['p99']:.0f} ms"),
            ("HTTP: found by the first search after the answer", f"{h['found_first_time']} of {h['writes']}"),
            ("HTTP: acknowledged to searchable",
             "0 ms: a write answers once visible" if h["found_first_time"] == h["writes"]
             else "not always at once"),
            ("HTTP: server start to healthy; its peak RSS over the writes",
             f"{h['ready_seconds']:.0f} s; {mb(h['server_peak_rss'])}")]
