"""Synonyms applied at query time to BM25, from a file in Solr's format (`ZHSEARCH_SYNONYMS`).

    # a comment
    外卖骑手, 外卖小哥, 外卖配送员      equivalent: a query with any of them also looks for the others
    一线职工 => 一线工人               one way: a query with the left side also looks for the right side

A query's words stay as they are (weight 1); the synonyms found for it are added to its BM25
terms, over title and text, weighed so that a paragraph holding a synonym scores about
`ZHSEARCH_SYNONYM_WEIGHT` (0.5) of what it would holding the query's own phrase
(search/synonyms/expand.py): one that has the query's words still ranks above one that has only
a synonym. Unlike Solr's `=>`, the left side is kept: a rewrite that dropped the user's words
would hide exact matches. A phrase matches the query text as the tokenizer normalises it (width,
case, traditional script) and only from a token boundary to a token boundary: 市总工会 is found in
上海市总工会, 市总 is not found in 城市总体规划.
Queries written in the keyword syntax (quotes, AND, NOT, fields) are left alone: they say exactly
what to match. The file is read again when it changes, so a fix needs no rebuild and no restart.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from index.tokenize import normalize

RECHECK_S = 1.0  # how often the file's modification time is looked at


class SynonymFileError(ValueError):
    """The synonym file is missing or has a line that is not a synonym rule."""


@dataclass(frozen=True)
class Synonyms:
    """Rules as `phrase -> phrases also searched`; phrases are normalised (see `normalize`)."""

    also: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.also)

    def expansions(self, query: QueryText) -> dict[str, list[str]]:
        """Each phrase to add for `query` (none already in it), in file order -> the query's phrases it stands for."""
        found: dict[str, list[str]] = {}
        for phrase, others in self.also.items():
            if query.has(phrase):
                for other in others:
                    if not query.has(other):
                        found.setdefault(other, []).append(phrase)
        return found


@dataclass(frozen=True)
class QueryText:
    """A query's normalised text and its token boundaries (every token's start and end; search mode's sub-words
    included)."""

    text: str
    boundaries: frozenset[int]

    def has(self, phrase: str) -> bool:
        """True when `phrase` occurs in the text from a token boundary to a token boundary. jieba may join a
        phrase's first character to the word before it (上海市|总工会: 市总工会 starts inside 上海市, at the end
        of 上海), so any boundary counts on either side; 市总 in 城市|总体 straddles one and does not."""
        at = self.text.find(phrase)
        while at >= 0:
            if at in self.boundaries and at + len(phrase) in self.boundaries:
                return True
            at = self.text.find(phrase, at + 1)
        return False


def query_text(text: str, tokenizer) -> QueryText:
    """`text` as synonym phrases are matched in: normalised as the tokenizer does, with its token boundaries."""
    tokens = tokenizer(text)  # offsets into `text`, which normalising leaves in place (same length)
    return QueryText(normalize(text, tokenizer.fold_traditional),
                     frozenset(t.start for t in tokens) | frozenset(t.end for t in tokens))


def parse_rules(text: str, normalize) -> Synonyms:
    """Synonyms from the file's text; `normalize` is the tokenizer's text normalisation.

    Raises SynonymFileError naming the line for a rule with an empty side or a single phrase.
    """
    also: dict[str, dict[str, None]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if "=>" in line:
            left, _, right = line.partition("=>")
            sources, targets = phrases(left, normalize), phrases(right, normalize)
            if not sources or not targets or "=>" in right:
                raise SynonymFileError(f"line {number}: {raw.strip()!r}: write 'a, b => c' with words on both sides")
        else:
            sources = targets = phrases(line, normalize)
            if len(sources) < 2:
                raise SynonymFileError(f"line {number}: {raw.strip()!r}: an equivalence needs two phrases or more, "
                                       "separated by commas")
        for source in sources:
            also.setdefault(source, {}).update((t, None) for t in targets if t != source)
    return Synonyms({source: tuple(others) for source, others in also.items() if others})


def phrases(part: str, normalize) -> list[str]:
    """The comma-separated phrases of one side of a rule, normalised, blanks dropped, in order, once each."""
    return list(dict.fromkeys(normalize(p.strip()) for p in part.replace("，", ",").split(",") if p.strip()))


class SynonymFile:
    """A synonym file read when first asked for and again whenever it changes (checked at most once a second).

    Invariant: `current()` never raises once a good version was read: a broken edit keeps the last
    good rules (and `problem` says why) until the file is fixed.
    """

    def __init__(self, path: Path, normalize) -> None:
        self.path = Path(path)
        self.normalize = normalize
        self.problem = ""
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0
        self._rules = self._read()  # the first read raises: a service must not start with a broken file

    def _read(self) -> Synonyms:
        try:
            stat = self.path.stat()
            rules = parse_rules(self.path.read_text(encoding="utf-8"), self.normalize)
        except OSError as err:
            raise SynonymFileError(f"cannot read the synonym file {self.path} ({err.strerror}): fix "
                                   "ZHSEARCH_SYNONYMS or unset it") from err
        except UnicodeDecodeError as err:
            raise SynonymFileError(f"{self.path} is not UTF-8 text") from err
        except SynonymFileError as err:
            raise SynonymFileError(f"{self.path}: {err}") from err
        self._stamp = (stat.st_mtime_ns, stat.st_size)
        return rules

    def current(self) -> Synonyms:
        now = time.monotonic()
        if now - self._checked < RECHECK_S:
            return self._rules
        with self._lock:
            self._checked = now
            try:
                stat = self.path.stat()
                if (stat.st_mtime_ns, stat.st_size) != self._stamp:
                    self._rules, self.problem = self._read(), ""
            except (OSError, SynonymFileError) as err:
                self.problem = str(err)  # keep serving the last good rules
        return self._rules
