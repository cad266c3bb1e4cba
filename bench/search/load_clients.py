"""The load test's users and what they saw: each client searches mostly and sometimes writes or deletes its own
articles (bench/search/load_test.py), recording every answer in one tally."""

from __future__ import annotations

import argparse
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import httpx

MODES = ("bm25", "dense", "hybrid")


@dataclass
class Tally:
    """Everything the clients observed; guarded by `lock`."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    requests: int = 0
    writes: int = 0
    acknowledged: int = 0  # articles acknowledged by POST /articles (ids are unique)
    present: dict[str, str] = field(default_factory=dict)  # acknowledged article id -> title
    deleted: set[str] = field(default_factory=set)  # acknowledged deletes
    lost_on_delete: list[str] = field(default_factory=list)  # own acknowledged article answered 404 on delete

    def record(self, kind: str, status: int | str, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds * 1000)
            self.statuses[kind][status] += 1


class Client(threading.Thread):
    """One user: searches mostly, sometimes writes or deletes its own articles."""

    def __init__(self, number: int, args: argparse.Namespace, base: str, token: str, deadline: float,
                 tally: Tally, titles: list[str], paragraphs: list[str], run_id: str) -> None:
        super().__init__(name=f"client-{number}", daemon=True)
        self.number, self.args, self.deadline, self.tally = number, args, deadline, tally
        self.titles, self.paragraphs, self.run_id = titles, paragraphs, run_id
        self.rng = random.Random(args.seed * 1000 + number)
        self.http = httpx.Client(base_url=base, timeout=args.timeout)
        self.auth = {"Authorization": f"Bearer {token}"}
        self.mine: list[str] = []  # this client's acknowledged, not-deleted articles
        self.made = 0

    def query(self) -> str:
        title = self.rng.choice(self.titles)
        if len(title) <= 4 or self.rng.random() < 0.3:
            return title
        length = self.rng.randint(2, min(10, len(title)))
        start = self.rng.randint(0, len(title) - length)
        return title[start:start + length]

    def timed(self, kind: str, method: str, url: str, **kwargs) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.HTTPError as err:
            self.tally.record(kind, type(err).__name__, time.perf_counter() - started)
            return None
        self.tally.record(kind, response.status_code, time.perf_counter() - started)
        return response

    def search(self) -> None:
        params = {"q": self.query(), "mode": self.rng.choice(MODES), "k": self.rng.choice((5, 10, 20))}
        if self.rng.random() < 0.5:
            self.timed(f"search {params['mode']}", "GET", "/search", params=params)
        else:
            self.timed(f"search {params['mode']}", "POST", "/search", json=params)

    def write(self) -> None:
        articles = []
        for _ in range(self.rng.randint(1, 3)):
            self.made += 1
            article_id = f"load-{self.run_id}-c{self.number}-{self.made}"
            body = "\n".join(self.rng.sample(self.paragraphs, k=min(3, len(self.paragraphs))))
            title = f"压测{self.number}号{self.made} {self.rng.choice(self.titles)}"
            articles.append({"id": article_id, "title": title,
                             "text": body, "source": "load-test", "date": "2026-01-02"})
        response = self.timed("write", "POST", "/articles", json={"articles": articles}, headers=self.auth)
        if response is not None and response.status_code == 200:
            acked = response.json()["added"]
            with self.tally.lock:
                self.tally.acknowledged += len(acked)
                for article in articles:
                    if article["id"] in acked:
                        self.tally.present[article["id"]] = article["title"]
                        self.mine.append(article["id"])

    def delete(self) -> None:
        article_id = self.mine.pop(self.rng.randrange(len(self.mine)))
        response = self.timed("delete", "DELETE", f"/articles/{article_id}", headers=self.auth)
        if response is None or response.status_code not in (200, 404):
            self.mine.append(article_id)  # not acknowledged: it should still be there
            return
        with self.tally.lock:
            self.tally.present.pop(article_id, None)
            if response.status_code == 200:
                self.tally.deleted.add(article_id)
            else:  # our own acknowledged article, never deleted by anyone: the index lost it
                self.tally.lost_on_delete.append(article_id)

    def may_write(self) -> bool:
        with self.tally.lock:
            if self.tally.writes >= self.args.max_writes:
                return False
            self.tally.writes += 1
            return True

    def run(self) -> None:
        try:
            while time.monotonic() < self.deadline:
                with self.tally.lock:
                    if self.tally.requests >= self.args.max_requests:
                        return
                    self.tally.requests += 1
                if self.rng.random() < self.args.write_share and self.may_write():
                    self.delete() if self.mine and self.rng.random() < 1 / 3 else self.write()
                else:
                    self.search()
        finally:
            self.http.close()
