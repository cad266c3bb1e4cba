"""Benchmark corpora of real Chinese text at any size, and a seeded query sample.

`write_corpus(n, path)` writes JSONL articles (`{"id", "title", "text", "source"}`, paragraphs
separated by line breaks) that `zhsearch index` and `index.ingest.sources.read_source` read, holding
exactly `n` paragraphs:

1. Real paragraphs first, in this order: the newspaper pages in `seeds/` (224 paragraphs, read
   with `index.ingest.sources.read_source`; a subheading joins its paragraph's line), then the passages of the shared datasets' corpora
   (`../shared/datasets/*/corpus.jsonl`: CMRC 2018 and DRCD, 1,256 Wikipedia passages), then the
   LCQMC questions (12,835). That is 14,315 real paragraphs; a smaller `n` takes a prefix.
2. Beyond them, recombined paragraphs: the real passages are split into sentences after 。！？,
   and each new paragraph joins 3-6 sentences drawn from one document family (a seed article,
   a CMRC passage, or all DRCD passages of one Wikipedia article); families are chosen in
   proportion to their number of sentences. New articles hold 1-5 such paragraphs of one family,
   with ids `syn-0000001` ... and titles `<family title>·<number>` (both unique).
   Randomness comes from one `random.Random(seed)`: the same `n` and seed give the same file.

How this differs from real news, and what that does to the measurements:
- Topic coherence: a recombined paragraph stays within one source document, but its sentences
  come in random order and may repeat within an article, so it reads as a shuffled excerpt.
- Duplicates: there are only ~13,400 distinct passage sentences, so at 100,000 paragraphs each
  one appears ~30 times and at 1,000,000 ~330 times. The vocabulary stops growing (real news
  keeps adding names and numbers), posting lists are longer and IDF flatter than in a real
  archive of that size, and dense neighbours are near-duplicates. Latency at large sizes is
  therefore pessimistic for BM25 (long posting lists) and index size optimistic (small vocabulary).
- Length: seed news paragraphs average ~120 characters, Wikipedia passages ~450, LCQMC
  questions ~12, recombined paragraphs ~150-250. A 10,000-paragraph corpus is 85 % short LCQMC
  questions; from ~15,000 paragraphs on, recombined prose dominates.
- LCQMC questions are used only as themselves, never recombined: joining unrelated one-line
  questions would make neither news nor a real question.
- No dates, bylines or captions: the date filters are not exercised.

`sample_queries(n, seed)` draws `n` queries evenly from the CMRC, DRCD and LCQMC query files.

Usage: .venv/bin/python -m bench.common.corpus 10000 corpus.jsonl [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from bench.common.paths import ROOT, SHARED_DATASETS
from index.ingest.sources import read_source

SEEDS = ROOT / "seeds"
DATASETS = SHARED_DATASETS
PASSAGE_SETS = ("cmrc2018-trial", "drcd-test")  # Wikipedia passages
QUESTION_SETS = ("lcqmc-dev",)  # one-line questions: used as they are, never recombined
QUERY_SETS = ("cmrc2018-trial", "drcd-test", "lcqmc-dev")
SENTENCE_END = re.compile(r"(?<=[。！？])")
SENTENCES_PER_PARAGRAPH = (3, 6)
PARAGRAPHS_PER_ARTICLE = (1, 5)


@dataclass
class RealArticle:
    """One real article as it will be written: id, title, source and its paragraphs."""

    id: str
    title: str
    source: str
    paragraphs: list[str]


@dataclass
class Family:
    """Sentences of one source document (or one Wikipedia article's passages) to recombine."""

    title: str
    sentences: list[str] = field(default_factory=list)


@dataclass
class CorpusStats:
    """What a written corpus holds: paragraphs by origin, articles, characters per paragraph."""

    paragraphs: int
    articles: int
    by_origin: dict[str, int]
    mean_chars: float
    median_chars: float


def one_line(text: str) -> str:
    """A paragraph on one line (seed pages keep a subheading above its paragraph): lines joined by a space."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, each keeping its closing 。！or ？ (a line without one is a sentence too)."""
    return [s.strip() for line in text.splitlines() for s in SENTENCE_END.split(line) if s.strip()]


def family_key(dataset: str, doc_id: str, title: str) -> str:
    """The recombination family of a passage: DRCD passages of one article share it (`1147-2` -> `1147`)."""
    if dataset == "drcd-test":
        return f"drcd:{doc_id.split('-')[0]}"
    return f"{dataset}:{doc_id}:{title}"


def real_articles() -> Iterator[RealArticle]:
    """Every real article in corpus order: seed pages, Wikipedia passages, then LCQMC questions."""
    for article in read_source(SEEDS):
        yield RealArticle(article.id, article.title, f"seeds/{article.source}", list(article.paragraphs))
    for dataset in (*PASSAGE_SETS, *QUESTION_SETS):
        for article in read_source(DATASETS / dataset / "corpus.jsonl"):
            yield RealArticle(f"{dataset.split('-')[0]}-{article.id}", article.title, dataset, list(article.paragraphs))


def families() -> list[Family]:
    """Recombination families from the seed articles and the Wikipedia passages, in a fixed order."""
    found: dict[str, Family] = {}
    for article in read_source(SEEDS):
        found[f"seeds:{article.id}"] = Family(article.title, [s for p in article.paragraphs for s in split_sentences(p)])
    for dataset in PASSAGE_SETS:
        for article in read_source(DATASETS / dataset / "corpus.jsonl"):
            key = family_key(dataset, article.id, article.title)
            family = found.setdefault(key, Family(article.title or article.id))
            family.sentences.extend(s for p in article.paragraphs for s in split_sentences(p))
    return [f for f in found.values() if f.sentences]


def recombined_articles(count: int, rng: random.Random) -> Iterator[RealArticle]:
    """Articles of new paragraphs, `count` paragraphs in all, each paragraph from one family."""
    pool = families()
    weights = [len(f.sentences) for f in pool]
    made = 0
    number = 0
    while made < count:
        number += 1
        family = rng.choices(pool, weights)[0]
        size = min(rng.randint(*PARAGRAPHS_PER_ARTICLE), count - made)
        paragraphs = []
        for _ in range(size):
            want = rng.randint(*SENTENCES_PER_PARAGRAPH)
            picked = rng.sample(family.sentences, min(want, len(family.sentences)))
            paragraphs.append("".join(picked))
        made += size
        yield RealArticle(f"syn-{number:07d}", f"{family.title}·{number}", "recombined", paragraphs)


def corpus_articles(n: int, seed: int = 0) -> Iterator[RealArticle]:
    """Articles holding exactly `n` paragraphs: real ones first, then recombined ones."""
    left = n
    for article in real_articles():
        if left <= 0:
            return
        paragraphs = [one_line(p) for p in article.paragraphs if p.strip()][:left]
        left -= len(paragraphs)
        yield RealArticle(article.id, article.title, article.source, paragraphs)
    if left > 0:
        yield from recombined_articles(left, random.Random(seed))


def write_corpus(n: int, path: Path, seed: int = 0) -> CorpusStats:
    """Write an `n`-paragraph corpus as JSONL articles to `path` and say what it holds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    by_origin: Counter[str] = Counter()
    lengths: list[int] = []
    articles = 0
    with open(path, "w", encoding="utf-8") as handle:
        for article in corpus_articles(n, seed):
            record = {"id": article.id, "title": article.title, "text": "\n".join(article.paragraphs),
                      "source": article.source}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            articles += 1
            origin = "seeds" if article.source.startswith("seeds/") else article.source
            by_origin[origin] += len(article.paragraphs)
            lengths.extend(len(p) for p in article.paragraphs)
    lengths.sort()
    return CorpusStats(len(lengths), articles, dict(by_origin), sum(lengths) / max(len(lengths), 1),
                       float(lengths[len(lengths) // 2]) if lengths else 0.0)


def sample_queries(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """`n` (dataset, query text) pairs drawn evenly from the CMRC, DRCD and LCQMC queries, seeded.

    Blank queries (CMRC has one) are left out: the API rejects them by design.
    """
    rng = random.Random(seed)
    picked: list[tuple[str, str]] = []
    for number, dataset in enumerate(QUERY_SETS):
        share = n // len(QUERY_SETS) + (1 if number < n % len(QUERY_SETS) else 0)
        with open(DATASETS / dataset / "queries.jsonl", encoding="utf-8") as handle:
            texts = [text for line in handle if line.strip() and (text := json.loads(line)["text"].strip())]
        picked.extend((dataset, text) for text in rng.sample(texts, min(share, len(texts))))
    return picked


def main() -> None:
    parser = argparse.ArgumentParser(description="Write an N-paragraph benchmark corpus of real Chinese text.")
    parser.add_argument("paragraphs", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    stats = write_corpus(args.paragraphs, args.out, args.seed)
    print(f"{stats.paragraphs} paragraphs in {stats.articles} articles -> {args.out} "
          f"({stats.by_origin}; mean {stats.mean_chars:.0f} chars, median {stats.median_chars:.0f})")


if __name__ == "__main__":
    main()
