"""The one jieba tokenizer used by indexing and querying alike."""

from __future__ import annotations

import hashlib
import logging
import threading
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jieba
import opencc

from index.settings import Settings

RECENT_TOKENS = 200_000  # tokens of recent texts a tokenizer keeps (~250 bytes each: at most ~50 MB)
LONGEST_KEPT = RECENT_TOKENS // 16  # a text of more tokens is never kept (it would push out many others)
TOKENIZER_VERSION = 1  # bump when the rules below change: indexes built before must be rebuilt


@dataclass(frozen=True)
class Token:
    """A term and where it came from: `text[start:end]` of the original string."""

    term: str
    start: int
    end: int


class RecentTokens:
    """The tokens of recently tokenised texts, least recently used out first; bounded by their total
    token count, not by the number of texts (a paragraph may be 200,000 characters). Thread-safe."""

    def __init__(self, budget: int, longest: int) -> None:
        self.budget, self.longest, self.size = budget, longest, 0
        self._kept: OrderedDict[str, tuple[Token, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> tuple[Token, ...] | None:
        with self._lock:
            tokens = self._kept.get(text)
            if tokens is not None:
                self._kept.move_to_end(text)
            return tokens

    def put(self, text: str, tokens: tuple[Token, ...]) -> None:
        if len(tokens) > self.longest:
            return
        with self._lock:
            if text in self._kept:
                return
            self._kept[text] = tokens
            self.size += max(len(tokens), 1)  # an empty result still takes an entry
            while self.size > self.budget:
                _, dropped = self._kept.popitem(last=False)
                self.size -= max(len(dropped), 1)


def file_digest(path: Path) -> str:
    """`name:sha256-prefix` of a file, so a changed dictionary is a different tokenizer."""
    return f"{path.name}:{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}"


def _fold_width(ch: str) -> str:
    """Full-width ASCII and the ideographic space to their half-width forms (one char to one)."""
    code = ord(ch)
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - 0xFEE0)
    if code == 0x3000:
        return " "
    return ch


_WIDTH_TABLE = {code: _fold_width(chr(code)) for code in (*range(0xFF01, 0xFF5F), 0x3000)}


def _lower(ch: str) -> str:
    """Lower-case one character, keeping it one character long."""
    low = ch.lower()
    return low if len(low) == 1 else ch


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def fold_script(text: str) -> str:
    """Traditional to simplified Chinese, keeping the length (so offsets stay valid).

    OpenCC converts phrases; where a phrase conversion changed the length,
    fall back to converting character by character.
    """
    folded = _t2s().convert(text)
    if len(folded) == len(text):
        return folded
    chars = [_t2s().convert(ch) for ch in text]
    return "".join(c if len(c) == 1 else ch for c, ch in zip(chars, text))


def normalize(text: str, fold_traditional: bool = True) -> str:
    """Width-fold, lower-case and (optionally) script-fold `text`.

    Invariant: `len(normalize(t)) == len(t)`, so offsets into the result are offsets into `t`.
    """
    folded = text.translate(_WIDTH_TABLE)
    out = folded.lower()
    # str.lower lowers a few characters to two (İ) and Σ by its context (final sigma): char by char then
    if len(out) != len(folded) or "Σ" in folded:
        out = "".join(_lower(ch) for ch in folded)
    return fold_script(out) if fold_traditional else out


def is_word(term: str) -> bool:
    """True when the term has a letter or a digit (punctuation and spaces are dropped)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in term)


class Tokenizer:
    """Callable text -> tokens: jieba search mode over normalised text.

    Search mode adds the sub-words of long words (工匠学院 -> 工匠, 学院, 工匠学院), which
    raises recall for questions that use a part of a compound. Indexing and querying
    must use the same instance settings; `config()` is recorded in the index manifest.
    """

    def __init__(self, fold_traditional: bool = True, user_dict: Path | None = None,
                 cache_dir: Path | None = None) -> None:
        self.fold_traditional = fold_traditional
        self.user_dict = user_dict
        self.cache_dir = cache_dir
        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            self._jieba.tmp_dir = str(cache_dir)
        self._jieba.initialize()
        self._recent = RecentTokens(RECENT_TOKENS, LONGEST_KEPT)
        self._pinned: dict[str, tuple[Token, ...]] = {}  # texts a commit is writing: their tokens, made before it
        self._pins: Counter[str] = Counter()  # how many commits pin each of them
        self._pin_lock = threading.Lock()
        if user_dict is not None:
            if not user_dict.is_file():
                raise FileNotFoundError(f"user dictionary {user_dict} not found: fix ZHSEARCH_USER_DICT")
            self._jieba.load_userdict(str(user_dict))

    def __call__(self, text: str) -> list[Token]:
        """Tokens of `text` in order of position, offsets into the original `text`.

        Recent texts are remembered (RECENT_TOKENS in all): a build tokenises each paragraph for Whoosh and
        again for its postings, and every paragraph of an article repeats its title. A commit's texts are
        `pinned` instead, for as long as it writes them.
        """
        tokens = self._known(text)
        if tokens is None:
            tokens = self._tokenize(text)
            self._recent.put(text, tokens)
        return list(tokens)

    def tokens(self, text: str) -> tuple[Token, ...]:
        """The tokens of `text`, not remembered: for a caller that keeps them itself (a prepared write until its
        commit, a searcher's terms of a text). A service that remembered them too grew its heaps by ~60 KB a
        write, up to RECENT_TOKENS' ~50 MB over a long feed."""
        found = self._known(text)
        return found if found is not None else self._tokenize(text)

    def _known(self, text: str) -> tuple[Token, ...] | None:
        """The tokens of `text` if made already: pinned by a commit, or remembered; None otherwise."""
        found = self._pinned.get(text)
        return found if found is not None else self._recent.get(text)

    @contextmanager
    def pinned(self, known: Mapping[str, tuple[Token, ...]]) -> Iterator[None]:
        """Within, `known` texts' tokens come from `known` (a commit writing texts tokenised before its lock,
        each twice: Whoosh's analyzer, then its postings); forgotten on leaving. Thread-safe; pins nest."""
        with self._pin_lock:
            for text, tokens in known.items():
                self._pinned[text] = tokens
                self._pins[text] += 1
        try:
            yield
        finally:
            with self._pin_lock:
                for text in known:
                    self._pins[text] -= 1
                    if not self._pins[text]:
                        del self._pins[text], self._pinned[text]

    def _tokenize(self, text: str) -> tuple[Token, ...]:
        norm = normalize(text, self.fold_traditional)
        return tuple(
            Token(word, start, end)
            for word, start, end in self._jieba.tokenize(norm, mode="search")
            if is_word(word) and not word.isspace()
        )

    def words(self, text: str) -> list[str]:
        """jieba's default-mode words of the normalised text, no sub-words (for dictionary building)."""
        return [w for w in self._jieba.lcut(normalize(text, self.fold_traditional)) if is_word(w)]

    def terms(self, text: str, remember: bool = True) -> list[str]:
        """Just the terms of `text` (for BM25 scoring); not `remember`ed: see `tokens`."""
        return [tok.term.strip() for tok in (self(text) if remember else self.tokens(text))]

    def config(self) -> dict[str, object]:
        """What an index must be queried with: recorded in its manifest (the dictionary by content)."""
        return {
            "name": "jieba-search",
            "version": TOKENIZER_VERSION,
            "jieba": jieba.__version__,
            "fold_traditional": self.fold_traditional,
            "user_dict": file_digest(self.user_dict) if self.user_dict else None,
        }


@lru_cache(maxsize=8)
def shared_tokenizer(fold_traditional: bool, user_dict: Path | None, cache_dir: Path | None) -> Tokenizer:
    """One Tokenizer per configuration per process: jieba's dictionary loads once."""
    return Tokenizer(fold_traditional, user_dict, cache_dir)


def tokenizer_from(settings: Settings) -> Tokenizer:
    """The tokenizer the settings describe (jieba's dictionary cache under cache_dir)."""
    return shared_tokenizer(settings.fold_traditional, settings.user_dict, settings.cache_dir / "jieba")
