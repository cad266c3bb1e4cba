"""Candidate words for a jieba user dictionary: frequent runs of tokens that jieba splits apart."""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from index.tokenize import Tokenizer


# Single-character words that never start or end a domain term.
FUNCTION_WORDS = frozenset("的 了 之 该 们 是 在 和 与 及 等 也 都 为 把 被 对 从 向 这 那 个 其 并 将 由 于 让 给 到 有 就 又".split())


def propose_words(tokenizer: Tokenizer, texts: Iterable[str], top: int = 50, min_count: int = 3,
                  max_chars: int = 6) -> list[tuple[str, int]]:
    """Joined runs of 2–3 adjacent jieba words, 3..max_chars characters of Chinese, seen at least
    `min_count` times; most frequent first. A run that always appears inside a longer frequent
    run is dropped in favour of the longer one."""
    counts: Counter[str] = Counter()
    for text in texts:
        words = tokenizer.words(text)
        for size in (2, 3):
            for i in range(len(words) - size + 1):
                parts = words[i:i + size]
                run = "".join(parts)
                if parts[0] in FUNCTION_WORDS or parts[-1] in FUNCTION_WORDS:
                    continue
                if 3 <= len(run) <= max_chars and all("\u4e00" <= ch <= "\u9fff" for ch in run):
                    counts[run] += 1
    frequent = {word: n for word, n in counts.items() if n >= min_count}
    kept = [(w, n) for w, n in frequent.items()
            if not any(w != longer and w in longer and frequent[longer] == n for longer in frequent)]
    return sorted(kept, key=lambda pair: (-pair[1], pair[0]))[:top]
