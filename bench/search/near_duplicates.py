"""How well MinHash tells reprints from other articles, on a sample made by editing real articles.

Originals: the seed pages' articles and the Wikipedia passages of the shared sets (CMRC 2018,
simplified; DRCD, traditional), those of at least index/ingest/minhash.MIN_CHARS letters and
digits. Each original of a random sample gets edited copies, as a newsroom's reprint would be:

    format     punctuation and spaces changed, digits full-width, in the other script (opencc)
    typos      2 % of its characters replaced, a new headline
    sentence   one sentence dropped, another article's sentence added (an editor's line)
    trimmed    its last fifth of sentences cut (a shorter reprint)
    half       only its first half kept (reported; not counted either way)

Negatives: every pair of distinct originals (passages of one Wikipedia article share a topic and
names), and "quoted" articles: another original with two sentences of this one inserted.
Prints, per shingle size and threshold, the share of each kind called a copy (estimated
similarity >= threshold) and the false positives, and for the chosen constants the share of
copies that the band keys find as candidates at all.

Usage: .venv/bin/python -m bench.search.near_duplicates [--sample 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import re
from dataclasses import replace

import numpy as np
import opencc

from bench.common.corpus import DATASETS, PASSAGE_SETS, SEEDS
from index.ingest import minhash
from index.ingest.sources import read_source
from index.models import Article

SENTENCE = re.compile(r"(?<=[。！？!?])")
POSITIVE = ("format", "typos", "sentence", "trimmed")
KINDS = (*POSITIVE, "half", "quoted")
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
WIDE = str.maketrans("0123456789", "０１２３４５６７８９")


def originals() -> list[Article]:
    found = [*read_source(SEEDS)]
    for dataset in PASSAGE_SETS:
        found.extend(read_source(DATASETS / dataset / "corpus.jsonl"))
    return [a for a in found if len(minhash.article_text(a)) >= minhash.MIN_CHARS]


def sentences(article: Article) -> list[str]:
    return [s for p in article.paragraphs for s in SENTENCE.split(p) if s.strip()]


def as_article(article: Article, kind: str, parts: list[str], title: str | None = None) -> Article:
    return replace(article, id=f"{article.id}~{kind}", title=title or article.title, paragraphs=("".join(parts),))


def edited(article: Article, other: Article, rng: random.Random) -> dict[str, Article]:
    """The copies of `article` (and the quoted negative, `other` with two of its sentences)."""
    own, theirs = sentences(article), sentences(other)
    text = "".join(article.paragraphs)
    to_other_script = opencc.OpenCC("s2t" if article.source.endswith(".txt") or "cmrc" in article.source else "t2s")
    formatted = to_other_script.convert(text).replace("，", ", ").replace("。", ". ").translate(WIDE)
    chars = list(text)
    for i in rng.sample(range(len(chars)), max(1, len(chars) // 50)):
        chars[i] = rng.choice(text)
    dropped = list(own)
    if len(dropped) > 1:
        dropped.pop(rng.randrange(len(dropped)))
    dropped.insert(rng.randrange(len(dropped) + 1), rng.choice(theirs))
    keep = max(1, len(own) * 4 // 5) if len(own) > 1 else 1
    at = rng.randrange(len(theirs) + 1)
    quoted = theirs[:at] + own[:2] + theirs[at:]
    return {
        "format": as_article(article, "format", [formatted]),
        "typos": as_article(article, "typos", ["".join(chars)], title="（转载）" + article.title[::-1]),
        "sentence": as_article(article, "sentence", dropped),
        "trimmed": as_article(article, "trimmed", own[:keep] if len(own) > 1 else [text[: len(text) * 4 // 5]]),
        "half": as_article(article, "half", own[: max(1, len(own) // 2)] if len(own) > 1 else [text[: len(text) // 2]]),
        "quoted": as_article(other, "quoted", quoted),
    }


def pair_similarities(sigs: np.ndarray) -> np.ndarray:
    """Estimated similarity of every pair of distinct eligible rows (upper triangle), as one flat array."""
    out = []
    for i in range(len(sigs) - 1):
        out.append((sigs[i + 1:] == sigs[i]).mean(axis=1))
    return np.concatenate(out) if out else np.zeros(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=300, help="originals edited into copies")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pool = originals()
    chosen = rng.sample(pool, min(args.sample, len(pool)))
    print(f"{len(pool)} originals ({sum(1 for a in pool if a.source.endswith('.txt'))} news articles from the seed "
          f"pages, the rest Wikipedia passages); {len(chosen)} edited into copies; shingle sizes and thresholds below")
    copies = {kind: [] for kind in KINDS}
    for article in chosen:
        other = rng.choice([a for a in pool if a.id != article.id][:2000])
        for kind, copy in edited(article, other, rng).items():
            copies[kind].append((article, copy))
    for size in (3, 4, 5):
        base = minhash.signatures(pool, size)
        distinct = pair_similarities(base)
        scored = {}
        for kind, pairs in copies.items():
            left = minhash.signatures([a for a, _ in pairs], size)
            right = minhash.signatures([c for _, c in pairs], size)
            scored[kind] = (left == right).mean(axis=1)
        print(f"\nshingles of {size} characters: similarity of copies (median) "
              + ", ".join(f"{k} {np.median(v):.2f}" for k, v in scored.items())
              + f"; distinct originals: max {distinct.max():.2f}, 99.99th pct {np.quantile(distinct, 0.9999):.2f}")
        print("threshold | " + " | ".join(f"{k} found" for k in KINDS) + f" | distinct pairs >= (of {len(distinct):,})")
        for threshold in THRESHOLDS:
            cells = [f"{(scored[k] >= threshold).mean():6.1%}" for k in KINDS]
            print(f"{threshold:9.2f} | " + " | ".join(cells) + f" | {int((distinct >= threshold).sum())}")
        if size == minhash.SHINGLE:
            keys_a = minhash.band_keys(minhash.signatures([a for a, _ in sum((copies[k] for k in POSITIVE), [])]))
            keys_b = minhash.band_keys(minhash.signatures([c for _, c in sum((copies[k] for k in POSITIVE), [])]))
            shared = (keys_a == keys_b).any(axis=1).mean()
            print(f"band keys ({minhash.BANDS} bands of {minhash.ROWS}): {shared:.1%} of the copies share one "
                  "with their original (candidates found)")
            print(f"chosen: shingles of {minhash.SHINGLE}, threshold {minhash.THRESHOLD}: "
                  + ", ".join(f"{k} {(scored[k] >= minhash.THRESHOLD).mean():.1%}" for k in KINDS)
                  + f"; distinct pairs at or above it: {int((distinct >= minhash.THRESHOLD).sum())}")


if __name__ == "__main__":
    main()
