"""BM25F over a Milvus corpus: a sparse inner product with the live statistics, ranked as the embedded engine ranks.

A query's vector holds boost * idf for each of its (field, term) leaves, the idf from the live
paragraph count and the term's document frequency in the vocabulary; a paragraph's holds its
term-frequency parts (index/milvus/sparse.py), so Milvus's inner product is the BM25F score.
Milvus computes it in float32: the candidates are rescored here in float64 from their stored
vectors and ranked by (-score, id), fetched a little deeper than asked and deeper again while
the last one fetched ties the k-th, so ties at the cut break by id as everywhere else. Parts stored
by earlier writes were made at the averages of their time: rescoring makes each anew at today's
(`rescore`), so scores are a fresh build's, and the depth allows for how far they moved.

Boolean queries: AND, OR and NOT over terms become a condition on the paragraphs' term arrays
(search/milvus/expressions.py); a phrase's words must all be there, and candidates of a query with
a phrase are checked against the query itself by Whoosh over their text (exact on them: every
candidate Milvus returns is checked, deeper pages fetched until k pass or none are left).
"""

from __future__ import annotations

import threading
from typing import Any, Sequence

from whoosh.query import Query

from functools import lru_cache

from whoosh.util.numeric import length_to_byte

from index.bm25f import classic_idf, drift, idf, tf_part, weight_of
from index.milvus.connection import WINDOW, Connection
from index.milvus.record import CorpusStats
from index.milvus.rows import PARAGRAPH_FIELDS, SCORING_FIELDS, term_key
from index.store.bm25_store import make_schema
from index.store.postings.from_text import field_boosts
from index.store.whoosh_fixes import ram_storage
from index.store.postings.segment_postings import FIELDS, QUANTISED_LENGTHS
from index.models import Paragraph
from index.tokenize import Tokenizer
from search.filters import Filter
from search.fusion import Ranked
from search.milvus.expressions import Condition, any_term, both, filter_condition, match_condition
from search.milvus.rows_cache import RowsCache
from search.query_leaves import Leaf, flat_leaves, positive_leaves

TIE = 2e-3  # relative: a paragraph not fetched may score this much above what Milvus gave it (float32 sums;
# Milvus 3.0 keeps sparse postings as float16 by default): fetch deeper while the k-th is this close to the last
SPARSE_SEARCH = {"metric_type": "IP", "params": {"drop_ratio_search": 0.0}}  # no query term dropped: exact
CACHED_TERMS = 200_000
CHECKED = 2000  # a phrase query's candidates checked to count its matches (about 0.5 s of Whoosh here)


class Vocabulary:
    """(field, term) -> (sparse dimension, live document frequency), read from <name>_terms once per corpus view."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._known: dict[str, tuple[int, int] | None] = {}
        self._lock = threading.Lock()

    def lookup(self, keys: Sequence[str]) -> dict[str, tuple[int, int]]:
        """The known ones of `keys` (term_key form)."""
        with self._lock:
            missing = [k for k in dict.fromkeys(keys) if k not in self._known]
        if missing:
            rows = self.conn.by_id("terms", missing, ["id", "term_id", "df"], "read the vocabulary")
            found = {row["id"]: (int(row["term_id"]), int(row["df"])) for row in rows}
            with self._lock:
                if len(self._known) > CACHED_TERMS:
                    self._known.clear()
                for key in missing:
                    self._known[key] = found.get(key)
        with self._lock:
            return {k: self._known[k] for k in keys if self._known.get(k) is not None}  # type: ignore[misc]


def query_vector(leaves: Sequence[Leaf], known: dict[str, tuple[int, int]], live: int) -> tuple[dict[int, float], dict[int, str]]:
    """{dimension: sum of boost * idf} over the leaves whose term some paragraph holds, and each dimension's field."""
    out: dict[int, float] = {}
    fields: dict[int, str] = {}
    for fieldname, term, boost in leaves:
        found = known.get(term_key(fieldname, term))
        if found is not None and boost > 0:
            out[found[0]] = out.get(found[0], 0.0) + boost * idf(live, found[1])
            fields[found[0]] = fieldname
    return out, fields


@lru_cache(maxsize=4096)
def quantised(length: int) -> float:
    """The field length BM25F scores with: Whoosh's byte-quantised one."""
    return float(QUANTISED_LENGTHS[length_to_byte(length)])


def rescore(weights: dict[int, float], fields: dict[int, str], entity: dict[str, Any], averages: dict[str, float],
            boosts: dict[str, float]) -> float:
    """A hit's BM25F score in float64 with the live averages, as a fresh build of the corpus scores it: each stored
    part gives back its posting's weight (a whole term frequency times the field's boost, so rounding makes it
    exact) and the part is made anew (index/bm25f.tf_part); equal postings give equal scores, ties stay ties."""
    stored = entity["bm25"]
    total = 0.0
    for d, w in weights.items():
        part = stored.get(d)
        if not part:
            continue
        f = fields[d]
        length = quantised(int(entity[f"{f}_len"]))
        frequency = round(weight_of(float(part), length, float(entity[f"avg_{f}"])) / boosts[f])
        total += w * tf_part(frequency * boosts[f], length, averages[f])
    return total


def settled(scores: list[float], k: int, last: float, moved: float) -> bool:
    """True when no paragraph Milvus ranked below `last` (the least score it returned, at the averages its parts
    were made with) can reach the k-th of `scores` (those kept, rescored), its parts moving by `moved` at most."""
    if len(scores) < k:
        return False
    kth = sorted(scores, reverse=True)[k - 1]
    return last * (1 + moved) < kth - TIE * abs(kth)


class Lexical:
    """BM25F retrieval over one Milvus corpus view; thread-safe."""

    def __init__(self, conn: Connection, stats: CorpusStats, cache: RowsCache, tokenizer: Tokenizer) -> None:
        self.conn = conn
        self.live = stats.paragraphs
        self.averages = {f: stats.averages.get(f, 1.0) for f in FIELDS}
        # How far a stored part may be from its value at today's averages (0 for a fresh export).
        self.schema = make_schema(tokenizer)  # the index's: its fields' boosts, and the check of phrase candidates
        self.boosts = field_boosts(self.schema)
        self.moved = max((drift(tuple(stats.baked[f]), self.averages[f]) for f in FIELDS if f in stats.baked),
                         default=0.0)
        self.cache = cache
        self.tokenizer = tokenizer
        self.vocabulary = Vocabulary(conn)

    def term_weights(self, terms: Sequence[str]) -> dict[str, float]:
        known = self.vocabulary.lookup([term_key("text", t) for t in terms])
        return {t: classic_idf(self.live, known.get(term_key("text", t), (0, 0))[1]) for t in terms}

    def top(self, query: Query, k: int, flt: Filter, count: bool = True) -> tuple[Ranked, int]:
        leaves = flat_leaves(query)
        flat = leaves is not None
        leaves = leaves if flat else positive_leaves(query)
        # Every term of the query: those under a NOT decide matches too (they score nothing).
        named = [(f, t) for f, t, _ in leaves] if flat else [(f, t) for f, t in query.iter_all_terms(phrases=True)
                                                             if f in FIELDS]
        known = self.vocabulary.lookup([term_key(f, t) for f, t in named])
        weights, fields = query_vector(leaves, known, self.live)
        if flat:
            match, exact = any_term(list(weights)), True
        else:
            match, exact = match_condition(query, lambda f, t: known.get(term_key(f, t), (None, 0))[0])
        where = both(filter_condition(flt), match)
        if k <= 0 or not self.live or not weights or where is False:
            return [], 0
        check = None if exact else query
        # The sparse search finds only paragraphs holding a query term: a flat query's match is implied.
        ranked = self._ranked(weights, fields, k, both(filter_condition(flt), True if flat else match), check)
        if not count:
            return ranked, len(ranked)
        return ranked, self._count(where) if exact else self._count_checked(where, query)

    def _search(self, weights: dict[int, float], limit: int, where: Condition) -> list[dict[str, Any]]:
        found = self.conn.call("search BM25", "search", self.conn.collection("paragraphs"), data=[weights],
                               anns_field="bm25", limit=limit, filter=where if isinstance(where, str) else "",
                               output_fields=PARAGRAPH_FIELDS + SCORING_FIELDS, search_params=SPARSE_SEARCH)
        return [{**hit["entity"], "_score": float(hit["distance"])} for hit in found[0]]

    def _ranked(self, weights: dict[int, float], fields: dict[int, str], k: int, where: Condition,
                check: Query | None) -> Ranked:
        limit = min(WINDOW, k + k // 4 + 10 if check is None else 4 * k + 50)
        while True:
            entities = self._search(weights, limit, where)
            self.cache.put(entities)
            scores = [rescore(weights, fields, e, self.averages, self.boosts) for e in entities]
            least = min((e["_score"] for e in entities), default=0.0)  # as Milvus ranked: at the parts' own averages
            kept = list(zip((e["id"] for e in entities), scores))
            if check is not None:
                passed = self.matching(check, [self.cache_paragraph(e) for e in entities])
                kept = [(pid, s) for pid, s in kept if pid in passed]
            exhausted = len(entities) < limit or limit >= WINDOW
            if exhausted or (len(kept) >= k and settled([s for _, s in kept], k, least, self.moved)):
                break
            limit = min(WINDOW, limit * 4)
        return sorted(kept, key=lambda pair: (-pair[1], pair[0]))[:k]

    def cache_paragraph(self, entity: dict[str, Any]) -> Paragraph:
        found = self.cache.get(entity["id"])
        if found is None:
            self.cache.put([entity])
            found = self.cache.get(entity["id"])
        return found[0]  # type: ignore[index]

    def _count(self, where: Condition) -> int:
        if where is True:
            return self.live
        rows = self.conn.call("count matches", "query", self.conn.collection("paragraphs"), filter=where,
                              output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def _count_checked(self, where: Condition, query: Query) -> int:
        """Matches of a query with phrases: exact up to CHECKED candidates (every one checked); beyond, the count of
        candidates scaled by the share of the first CHECKED that match (an estimate: docs/milvus.md)."""
        candidates = self._count(where)
        rows = self.conn.call("read phrase candidates", "query", self.conn.collection("paragraphs"),
                              filter=where if isinstance(where, str) else "", output_fields=PARAGRAPH_FIELDS,
                              limit=min(CHECKED, WINDOW))
        passed = len(self.matching(query, [self.cache_paragraph(row) for row in rows]))
        return passed if candidates <= len(rows) else round(candidates * passed / max(len(rows), 1))

    def matching(self, query: Query, paragraphs: Sequence[Paragraph]) -> set[str]:
        """The ids of `paragraphs` that `query` matches, decided by Whoosh over their text as the index analyses it."""
        if not paragraphs:
            return set()
        with ram_storage() as storage:
            ix = storage.create_index(self.schema)
            with ix.writer() as writer:
                for p in paragraphs:  # every field of the index's own documents (index/store/bm25_store.py)
                    writer.add_document(paragraph_id=p.id, article_id=p.article_id, source=p.source,
                                        date=p.date or "", position=p.position, title=p.title, text=p.text)
            with ix.searcher() as searcher:
                return {searcher.stored_fields(doc)["paragraph_id"] for doc in searcher.docs_for_query(query)}
