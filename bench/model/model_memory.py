"""What a service's model holds and spends on writes: its memory over new articles' passages, and the time a
write's embedding takes in bounded passes (a service's, index/model/runtime.SERVING_PASS_TOKENS) against
16-row passes (a build's), in one process.

Memory: the service's encoder (`serving`, warmed up as the service does) embeds the paragraphs and sentences
of `--articles` new bench articles; its resident memory is printed after 10, 30, 60, ... of them, with what
the warm-up took. Time: the same ONNX Runtime float32 kind of session with and without the bound embeds each
article in turn, their order alternating; medians per article.

Usage: .venv/bin/python -m bench.model.model_memory [--articles 200]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.common.memory import MB, rss_bytes
from bench.common.machine import cpu_model
from bench.writes.write_common import fresh_articles

from index.ingest.paragraphs import passage_texts, split_article
from index.ingest.sentences import sentence_units
from index.model.runtime import load_encoder
from index.settings import Settings

MARKS = (10, 30, 60, 120, 200, 400, 800)


def write_texts(article) -> tuple[list[str], list[str]]:
    """The paragraphs and sentences a write of `article` embeds."""
    paragraphs = split_article(article)
    return passage_texts(paragraphs), sentence_units([p.text for p in paragraphs])[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}")
    served = load_encoder(Settings(), serving=True)
    served.encode_queries(["工会"])
    before, started = rss_bytes(), time.perf_counter()
    served.warm_up()
    print(f"warm-up: +{(rss_bytes() - before) / MB:.1f} MB in {time.perf_counter() - started:.2f} s "
          f"(passes of at most {served.max_tokens} tokens)")
    articles = [write_texts(a) for a in fresh_articles(args.articles, seed=21)]
    base = rss_bytes()
    for n, (paragraphs, sentences) in enumerate(articles, 1):
        served.encode_passages(paragraphs)
        served.encode_passages(sentences)
        if n in MARKS or n == len(articles):
            print(f"after {n} articles: +{(rss_bytes() - base) / MB:.1f} MB")
    unbounded = load_encoder(Settings(), serving=True)
    unbounded.max_tokens = None  # the same session kind in 16-row passes, as a build runs them
    times: dict[str, list[float]] = {"bounded": [], "16 rows": []}
    for n, (paragraphs, sentences) in enumerate(articles[:60]):
        pair = [("bounded", served), ("16 rows", unbounded)]
        for name, encoder in pair if n % 2 else reversed(pair):
            started = time.perf_counter()
            encoder.encode_passages(paragraphs)
            encoder.encode_passages(sentences)
            times[name].append(time.perf_counter() - started)
    bounded, rows = (statistics.median(times[k]) * 1000 for k in ("bounded", "16 rows"))
    print(f"a write's embedding, p50 over {len(times['bounded'])} articles: bounded passes {bounded:.1f} ms, "
          f"16-row passes {rows:.1f} ms (x{bounded / rows:.3f})")


if __name__ == "__main__":
    main()
