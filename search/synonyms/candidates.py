"""Candidate synonyms for a corpus: its frequent words whose model vectors lie close, grouped, for a person to vet.

The model places words used for one thing near each other (外卖骑手, 外卖小哥, 外卖配送员), but also
near words of the same kind that mean something else (北京, 天津): nothing here is a synonym until
someone reads it. Printed in the synonym file's format (search/synonyms/rules.py) with each group's
closeness, so that the lines worth keeping can be copied.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np

from index.model.embed import Encoder
from index.tokenize import Tokenizer


def frequent_words(tokenizer: Tokenizer, texts: Iterable[str], min_count: int, limit: int) -> list[tuple[str, int]]:
    """jieba words of two or more Chinese characters seen at least `min_count` times, the most frequent `limit`."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(w for w in tokenizer.words(text) if len(w) >= 2 and all("\u4e00" <= ch <= "\u9fff" for ch in w))
    kept = [(w, n) for w, n in counts.items() if n >= min_count]
    return sorted(kept, key=lambda pair: (-pair[1], pair[0]))[:limit]


def close_pairs(vectors: np.ndarray, threshold: float) -> list[tuple[float, int, int]]:
    """(cosine, i, j) for i < j whose unit vectors have cosine >= threshold, the closest first."""
    similar = vectors @ vectors.T
    rows, cols = np.nonzero(np.triu(similar >= threshold, k=1))
    return sorted(((float(similar[i, j]), int(i), int(j)) for i, j in zip(rows, cols)), key=lambda t: (-t[0], t[1], t[2]))


def groups(pairs: list[tuple[float, int, int]], size: int) -> list[tuple[float, list[int]]]:
    """Pairs joined into groups of at most `size` members, closest pairs first (a pair that would make a group
    too big is left out); each group with its weakest link, the tightest groups first."""
    group_of: dict[int, int] = {}  # member -> its group's key
    members: dict[int, list[int]] = {}
    weakest: dict[int, float] = {}
    for cosine, i, j in pairs:
        a, b = group_of.get(i, i), group_of.get(j, j)
        if a == b:
            continue
        left, right = members.get(a, [a]), members.get(b, [b])
        if len(left) + len(right) > size:
            continue
        members[a] = left + right
        weakest[a] = min(weakest.get(a, cosine), weakest.pop(b, cosine), cosine)
        members.pop(b, None)
        for member in members[a]:
            group_of[member] = a
    return sorted(((weakest[key], sorted(found)) for key, found in members.items()), key=lambda g: (-g[0], g[1]))


def propose_synonyms(tokenizer: Tokenizer, encoder: Encoder, texts: Iterable[str], min_count: int = 3,
                     limit: int = 2000, threshold: float = 0.92, size: int = 4) -> list[tuple[float, list[tuple[str, int]]]]:
    """Groups of frequent words whose vectors (encoded as queries) are at cosine >= `threshold`: (weakest link,
    [(word, count)]), the tightest groups first."""
    words = frequent_words(tokenizer, texts, min_count, limit)
    if len(words) < 2:
        return []
    vectors = encoder.encode_queries([w for w, _ in words])
    return [(cosine, [words[i] for i in members]) for cosine, members in groups(close_pairs(vectors, threshold), size)]
