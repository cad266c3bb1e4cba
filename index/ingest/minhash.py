"""MinHash signatures of articles over character shingles, for telling reprints (near-duplicates) apart.

An article's text (its paragraphs; the title when it has none) is normalised as the tokenizer
does, always folding traditional script to simplified (a reprint in the other script is a
reprint), and only letters and digits are kept (punctuation, spaces and layout differ between
reprints). Its SHINGLE-character substrings are hashed by datasketch's MinHash into NUM_PERM
values; the share of equal values between two signatures estimates the Jaccard similarity of
their shingle sets (standard error about 0.03 at 0.8 with 128 values).

Two articles are near-duplicates when their estimated similarity is at least THRESHOLD. For
finding candidates without comparing every pair, the first BANDS * ROWS values of a signature
are cut into BANDS bands of ROWS values, each hashed into one 64-bit key (locality-sensitive
hashing): two articles of similarity s share a band key with probability
1 - (1 - s**ROWS)**BANDS: 0.996 at s = 0.5, 0.68 at 0.3, 0.04 at 0.1 (unrelated articles measure
under 0.3). Candidates are then confirmed by their estimated similarity.

The constants were chosen on a sample of edited real articles (bench/search/near_duplicates.py; docs/relevance.md).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np

from index.models import Article
from index.tokenize import normalize

NUM_PERM = 128  # values per signature
SHINGLE = 4  # characters per shingle
BANDS, ROWS = 42, 3  # BANDS * ROWS <= NUM_PERM
THRESHOLD = 0.5  # estimated Jaccard similarity from which two articles are copies of one story
MIN_CHARS = 60  # letters and digits: a shorter article is never called a copy (too little text to tell)
SEED = 1  # datasketch's permutation seed: fixed, or signatures of two runs would not compare
# datasketch's hashing scheme, named rather than its default: 1.x hashed another way (its "legacy" scheme), and an
# index keeps the signatures of every article it holds, which each later write's must compare with.
SCHEME = "affine32"
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier combining a band's values into its key


def article_text(article: Article) -> str:
    """The text a signature is taken over: normalised letters and digits of the paragraphs (or the title)."""
    text = "".join(article.paragraphs) or article.title
    return "".join(ch for ch in normalize(text, True) if unicodedata.category(ch)[0] in "LN")


def shingles(text: str, size: int = SHINGLE) -> list[bytes]:
    """Every `size`-character substring of `text`, UTF-8 encoded (the text itself when shorter)."""
    if len(text) <= size:
        return [text.encode("utf-8")] if text else []
    return [text[i:i + size].encode("utf-8") for i in range(len(text) - size + 1)]


def minhash_class() -> type:
    """datasketch's MinHash, imported at first use: its package loads SciPy (~0.6 s and ~16 MB), which a merge
    or a search never needs (a service that takes writes calls this at start: index/writer.preload)."""
    from datasketch import MinHash

    return MinHash


def signatures(articles: Sequence[Article], size: int = SHINGLE) -> np.ndarray:
    """One MinHash signature per article (shingles of `size`), uint32 (len(articles), NUM_PERM); a short
    article's row is all 0 (not `eligible`)."""
    new_minhash = minhash_class()
    out = np.zeros((len(articles), NUM_PERM), dtype=np.uint32)
    for row, article in enumerate(articles):
        text = article_text(article)
        if len(text) < MIN_CHARS:
            continue
        minhash = new_minhash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
        minhash.update_batch(shingles(text, size))
        out[row] = minhash.hashvalues.astype(np.uint32)
    return out


def eligible(signatures_: np.ndarray) -> np.ndarray:
    """Rows with a signature (long enough to compare), bool per row."""
    return signatures_.any(axis=1)


def band_keys(signatures_: np.ndarray) -> np.ndarray:
    """uint64 (rows, BANDS): each band's ROWS values combined into one key (equal bands, equal keys)."""
    bands = signatures_[:, :BANDS * ROWS].reshape(len(signatures_), BANDS, ROWS).astype(np.uint64)
    keys = np.zeros((len(signatures_), BANDS), dtype=np.uint64)
    with np.errstate(over="ignore"):  # wrap-around multiplication is the hash
        for i in range(ROWS):
            keys = keys * _MIX + bands[:, :, i] + np.uint64(i + 1)
    return keys


def similarity(one: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of signature `one` to each row of `others` (share of equal values)."""
    return (others == one).mean(axis=1) if len(others) else np.zeros(0)
