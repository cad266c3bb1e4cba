"""Writes to a Milvus corpus: a group of prepared updates (index/update.prepare: split and embedded already) committed
as the embedded index commits them, with the same rules for unknown deletes, replacements and near-duplicates.

One commit: the statistics are read; the articles it changes are listed as `pending`; the new
paragraphs, sentences and articles are upserted (by id) and every row of a deleted or replaced
article that the new version does not have is deleted; the vocabulary's document frequencies and
the statistics (live count, field lengths, sources) are written, `pending` cleared, and only then
is the commit acknowledged. Read with Strong consistency, an acknowledged write is searchable.

Milvus has no transaction across calls or collections. A commit cut short (a crash, Milvus gone)
leaves each row whole but its articles as far as it got; it was not acknowledged, and a retry
rewrites them whole (writes are idempotent by id). The statistics it left `pending` are rebuilt
from the collections by the next commit (`repair`), so scores stay those of the rows stored.
One writer at a time per corpus: the service (its group commit), or one `zhsearch add`/`delete`; a
commit that finds another in flight (`pending`, recent) fails with WriterBusyError (HTTP 409). Milvus
has no compare-and-set, so two writers starting in the same instant are not told apart: run one.

The new paragraphs' BM25F vectors are made with the average field lengths after the commit; the
vectors already stored keep the averages of their own commits (docs/milvus.md measures the drift;
`zhsearch export --replace` makes every vector anew).
"""

from __future__ import annotations

import time
from typing import Iterable, Sequence

import numpy as np

from index.bm25f import average_length
from index.commits import WriterBusyError
from index.ingest.minhash import NUM_PERM
from index.milvus.connection import Connection, one_of
from index.milvus.export import batches
from index.milvus.marks import stories_of
from index.milvus.record import SOURCE_PREFIX, CorpusStats, check_record, read_meta, read_sources, write_meta, write_sources
from index.milvus.rows import article_row, checked_key, paragraph_row, sentence_rows, term_row
from index.milvus.sparse import live_df, row_vectors, slot_keys
from index.models import UnknownArticleError
from index.store.bm25_store import make_schema
from index.store.postings.from_text import field_boosts, postings_of_text
from index.store.postings.segment_postings import FIELDS
from index.tokenize import Tokenizer
from index.update import PreparedArticle, PreparedUpdate

CHUNK = 256  # ids per `in [...]` expression


def widened(baked: dict[str, list[float]], averages: dict[str, float]) -> dict[str, list[float]]:
    """The range of averages stored parts were made with, once parts made at `averages` join them."""
    return {f: [min(baked.get(f, [a])[0], a), max(baked.get(f, [a])[1], a)] for f, a in averages.items()}


def chunks(values: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


class MilvusWriter:
    """Commits prepared updates to the Milvus corpus `conn` names; one at a time (the caller serialises commits)."""

    def __init__(self, conn: Connection, tokenizer: Tokenizer, model: dict[str, object]) -> None:
        self.conn = conn
        self.tokenizer = tokenizer
        self.model = model
        self.schema = make_schema(tokenizer)
        # A commit in flight longer than this was cut short (every call it makes is bounded by the timeout).
        self.stale_after = max(60.0, 30 * conn.timeout)

    # ------------------------------------------------------------------ reading

    def _query(self, kind: str, where: str, fields: list[str], what: str) -> list[dict]:
        """Every row meeting `where` (paged: no cap)."""
        return [row for page in self.conn.rows(kind, where, fields, what) for row in page]

    def existing(self, ids: Sequence[str]) -> dict[str, dict]:
        """The articles of `ids` Milvus holds: id -> {id, story}."""
        found: dict[str, dict] = {}
        for part in chunks(list(ids)):
            for row in self.conn.by_id("articles", list(part), ["id", "story"], "read articles"):
                found[row["id"]] = row
        return found

    def old_paragraphs(self, ids: Sequence[str]) -> list[dict]:
        rows: list[dict] = []
        for part in chunks(list(ids), 64):
            rows += self._query("paragraphs", one_of("article_id", list(part)),
                                ["id", "article_id", "source", "terms", "title_len", "text_len"], "read old paragraphs")
        return rows

    def old_sentences(self, ids: Sequence[str]) -> list[str]:
        found: list[str] = []
        for part in chunks(list(ids), 64):
            found += [row["id"] for row in self._query("sentences", one_of("article_id", list(part)),
                                                        ["id"], "read old sentences")]
        return found

    def vocabulary(self, keys: Sequence[str]) -> dict[str, tuple[int, int]]:
        """key -> (id, df) of the known ones."""
        found: dict[str, tuple[int, int]] = {}
        for part in chunks(list(keys), 1024):
            for row in self.conn.by_id("terms", list(part), ["id", "term_id", "df"], "read the vocabulary"):
                found[row["id"]] = (int(row["term_id"]), int(row["df"]))
        return found

    def terms_by_id(self, term_ids: Sequence[int]) -> dict[int, tuple[str, int]]:
        """id -> (key, df)."""
        found: dict[int, tuple[str, int]] = {}
        for part in chunks(sorted(set(term_ids)), 1024):
            for row in self._query("terms", f"term_id in [{', '.join(map(str, part))}]", ["id", "term_id", "df"],
                                   "read the vocabulary"):
                found[int(row["term_id"])] = (row["id"], int(row["df"]))
        return found

    # ------------------------------------------------------------------ the commit

    def commit(self, batch: Sequence[PreparedUpdate]) -> list[Exception | None]:
        """Apply `batch` in order as one commit; each update's error (UnknownArticleError for a delete of an unknown
        article, which then changes nothing) or None. MilvusUnavailableError fails the whole batch."""
        record, stats = read_meta(self.conn)
        check_record(record, self.model, self.tokenizer.config(), self.conn.name)
        if stats.pending:
            if time.time() - stats.pending_since < self.stale_after:
                raise WriterBusyError(f"another writer is committing to Milvus corpus {self.conn.name!r} (since "
                                      f"{time.time() - stats.pending_since:.0f} s): try again when it is done")
            stats = self.repair(stats)  # a commit cut short: its statistics are rebuilt first
        touched = list(dict.fromkeys([p.article.id for u in batch for p in u.upserts] + [a for u in batch for a in u.deletes]))
        stored = self.existing(touched)
        final: dict[str, PreparedArticle | None] = {}
        outcomes: list[Exception | None] = []
        for update in batch:
            live = lambda aid: final[aid] is not None if aid in final else aid in stored  # noqa: E731
            unknown = [aid for aid in update.deletes if not live(aid)]
            if unknown:
                outcomes.append(UnknownArticleError(unknown[0]))
                continue
            final.update((p.article.id, p) for p in update.upserts)
            final.update((aid, None) for aid in update.deletes)
            outcomes.append(None)
        if final:
            self._apply(final, stored, stats)
        return outcomes

    def _apply(self, final: dict[str, PreparedArticle | None], stored: dict[str, dict], stats: CorpusStats) -> None:
        changed = [aid for aid in final if aid in stored or final[aid] is not None]
        new = [p for p in final.values() if p is not None]
        paragraphs = [q for p in new for q in p.paragraphs]
        # Every row these articles have now: their live versions', and any a commit cut short left of a new one.
        old = self.old_paragraphs(changed)
        old_sentences = self.old_sentences(changed)

        # The new paragraphs' terms, exactly as the embedded index takes them (the schema's analyzer and boosts).
        postings = postings_of_text(self.schema, [{"title": p.title, "text": p.text} for p in paragraphs],
                                    field_boosts(self.schema))
        keys = slot_keys(postings)
        known = self.vocabulary(sorted(set(keys)))
        df = {key: found[1] for key, found in known.items()}
        ids = {key: found[0] for key, found in known.items()}
        next_term = stats.next_term
        for key in sorted(set(keys) - set(ids)):
            ids[key], df[key], next_term = next_term, 0, next_term + 1
        everyone = np.ones(postings.size, dtype=bool)
        for key, count in zip(keys, live_df(postings, everyone).tolist()):
            df[key] += count
        gone = self.terms_by_id([t for row in old for t in row["terms"]])
        for row in old:
            for term in row["terms"]:
                if int(term) not in gone:  # a dimension a commit cut short handed out: never counted
                    continue
                key = gone[int(term)][0]
                if key not in df:
                    df[key], ids[key] = gone[int(term)][1], int(term)
                df[key] -= 1

        # The statistics after the commit, and the new vectors made with its averages.
        lengths = {f: stats.lengths.get(f, 0) - sum(int(r[f"{f}_len"]) for r in old)
                   + int(postings.lengths[:, i].sum(dtype=np.int64)) for i, f in enumerate(FIELDS)}
        live = stats.paragraphs - len(old) + len(paragraphs)
        averages = {f: average_length(lengths[f], live) for f in FIELDS}
        sparse = row_vectors(postings, everyone, np.array([ids[k] for k in keys], dtype=np.int64), averages)
        sources: dict[str, int] = {}  # source -> change of its live paragraph count
        for row in old:
            sources[row["source"]] = sources.get(row["source"], 0) - 1
        for p in paragraphs:
            sources[p.source] = sources.get(p.source, 0) + 1
        signatures = np.stack([p.signature if p.signature is not None else np.zeros(NUM_PERM, np.uint32) for p in new]) \
            if new else np.zeros((0, NUM_PERM), np.uint32)
        stories = stories_of(self.conn, [p.article.id for p in new], signatures, lambda aid: aid not in final)
        copies = stats.copies - sum(1 for aid in changed if aid in stored and stored[aid]["story"] != aid) \
            + sum(1 for aid, story in stories.items() if story != aid)

        # Every row is made (and checked against Milvus's limits: RowTooLargeError) before anything is written.
        at = 0
        paragraph_rows, sentence_list, article_rows = [], [], []
        for prepared, signature in zip(new, signatures):
            story = stories[prepared.article.id]
            for paragraph, vector in zip(prepared.paragraphs, prepared.vectors):
                paragraph_rows.append(paragraph_row(paragraph, story, sparse[at], postings.lengths[at], averages, vector))
                at += 1
            owners = np.array(prepared.sentence_owners)
            for paragraph in prepared.paragraphs:
                sentence_list += sentence_rows(paragraph, prepared.sentences[owners == paragraph.id] if len(owners)
                                               else prepared.sentences[:0])
            article_rows.append(article_row(prepared.article, story, signature))
        term_rows = [term_row(checked_key(key), ids[key], count) for key, count in df.items()]
        counts = self.source_counts(sources)
        kept = {row["id"] for row in paragraph_rows} | {row["id"] for row in sentence_list}

        write_meta(self.conn, None, stats.model_copy(update={"pending": len(changed), "pending_since": time.time()}))
        self._upsert("paragraphs", paragraph_rows)
        self._upsert("sentences", sentence_list)
        self._upsert("articles", article_rows)
        self._delete("paragraphs", [row["id"] for row in old if row["id"] not in kept])
        self._delete("sentences", [sid for sid in old_sentences if sid not in kept])
        self._delete("articles", [aid for aid in changed if final[aid] is None])
        self._upsert("terms", term_rows)
        write_sources(self.conn, counts)
        write_meta(self.conn, None, CorpusStats(
            version=stats.version + 1, articles=stats.articles + len(new) - sum(1 for aid in changed if aid in stored),
            paragraphs=live, sentences=stats.sentences - len(old_sentences) + len(sentence_list), lengths=lengths,
            averages=averages, baked=widened(stats.baked, averages) if paragraphs else stats.baked, next_term=next_term,
            copies=copies))

    def source_counts(self, changes: dict[str, int]) -> dict[str, int]:
        """The new live paragraph counts of the sources these changes touch."""
        changed = [source for source, change in changes.items() if change]
        found: dict[str, int] = {}
        for part in chunks([SOURCE_PREFIX + source for source in changed], 1024):
            for row in self.conn.by_id("meta", list(part), ["id", "value"], "read the sources"):
                found[row["id"][len(SOURCE_PREFIX):]] = int(row["value"])
        return {source: found.get(source, 0) + changes[source] for source in changed}

    def _upsert(self, kind: str, rows: list[dict]) -> None:
        for batch in batches(rows):
            self.conn.call(f"write {kind}", "upsert", self.conn.collection(kind), batch)

    def _delete(self, kind: str, ids: list[str]) -> None:
        for part in chunks(ids):
            self.conn.call(f"delete {kind}", "delete", self.conn.collection(kind), ids=list(part))

    # ------------------------------------------------------------------ recovery

    def repair(self, stats: CorpusStats) -> CorpusStats:
        """Statistics and document frequencies rebuilt from the rows stored (after a commit cut short): every
        paragraph's term ids, lengths and source, every article's story, read once."""
        counts: dict[int, int] = {}
        lengths = {f: 0 for f in FIELDS}
        sources: dict[str, int] = {}
        paragraphs = 0
        for page in self.conn.rows("paragraphs", "", ["terms", "title_len", "text_len", "source"],
                                   "read every paragraph"):
            for row in page:
                paragraphs += 1
                for term in row["terms"]:
                    counts[int(term)] = counts.get(int(term), 0) + 1
                for f in FIELDS:
                    lengths[f] += int(row[f"{f}_len"])
                sources[row["source"]] = sources.get(row["source"], 0) + 1
        terms = self._query("terms", "", ["id", "term_id", "df"], "read the vocabulary")
        self._upsert("terms", [term_row(row["id"], int(row["term_id"]), counts.get(int(row["term_id"]), 0))
                               for row in terms if counts.get(int(row["term_id"]), 0) != int(row["df"])])
        write_sources(self.conn, {**{source: 0 for source in read_sources(self.conn)}, **sources})
        articles = self._count("articles", "")
        copies = sum(1 for page in self.conn.rows("articles", "", ["id", "story"], "read every story")
                     for row in page if row["story"] != row["id"])
        sentences = self._count("sentences", "")
        averages = {f: average_length(lengths[f], paragraphs) for f in FIELDS}
        # Dimensions handed out by the commit cut short are never handed out again (rows may hold them).
        next_term = max([stats.next_term, *(term + 1 for term in counts)])
        repaired = CorpusStats(version=stats.version + 1, articles=articles, paragraphs=paragraphs, sentences=sentences,
                               lengths=lengths, averages=averages, baked=stats.baked, next_term=next_term, copies=copies)
        write_meta(self.conn, None, repaired)
        return repaired

    def _count(self, kind: str, where: str) -> int:
        rows = self.conn.call(f"count {kind}", "query", self.conn.collection(kind), filter=where,
                              output_fields=["count(*)"])
        return int(rows[0]["count(*)"])
