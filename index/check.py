"""Consistency check of an index: every commit point kept, every segment it lists, every tombstone.

For the current commit point: each segment opens and its parts agree (docs, vectors, sentence
vectors, Whoosh, postings, article rows), its tombstones name rows and articles it has, no live
article or paragraph is in two segments, and the counts are the commit point's. The earlier kept
commit points must still open (a reader may be on one). What no kept commit point lists is
reported as removable (a crash leaves it; the next writer removes it), not as a problem.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.commits import (COMMIT_PREFIX, DATA_PREFIXES, MERGE_TMP, WRITER_TMP, commit_points, current_name,
                           read_current, referenced)
from index.ingest.minhash import BANDS, NUM_PERM, eligible
from index.manifest import Manifest, SegmentInfo, read_manifest
from index.store.columns import Columns
from index.store.segment import Segment, read_article_rows
from index.tombstones import read_tombstones


def _sample(ids) -> str:
    ids = sorted(ids)
    return ", ".join(map(str, ids[:5])) + (" …" if len(ids) > 5 else "")


def unreadable_rows(segment: Segment) -> list[int]:
    """Rows whose paragraph does not parse (a segment opens checking only each line's id: index/store/docs/)."""
    bad = []
    for row in range(segment.size):
        try:
            segment.paragraphs[row]
        except ValueError:  # DamagedRecordError: not JSON, or not a Paragraph's fields
            bad.append(row)
    return bad


def check_articles(segment: Segment) -> list[str]:
    """Every article parses, and the columns (source and date by row) are its articles' (a segment opens reading
    neither: index/store/docs/article_map.py, index/store/columns.py)."""
    articles, bad = [], []
    for article_id in segment.articles:
        try:
            articles.append(segment.articles[article_id])
        except ValueError:  # DamagedRecordError: not JSON, or not an Article's fields
            bad.append(article_id)
    if bad:
        return [f"articles.jsonl cannot be read for articles {_sample(bad)}"]
    if not Columns.of(articles, segment.article_rows, segment.size).equals(segment.columns):
        return ["columns.json does not hold the sources and dates of the articles' rows"]
    return []


def compare_ids(name_a: str, a: set[str], name_b: str, b: set[str]) -> list[str]:
    """Problems where two id sets differ, naming a few ids on each side."""
    problems = []
    if a - b:
        problems.append(f"{len(a - b)} paragraph ids in {name_a} but not in {name_b}: {_sample(a - b)}")
    if b - a:
        problems.append(f"{len(b - a)} paragraph ids in {name_b} but not in {name_a}: {_sample(b - a)}")
    return problems


def check_segment(index_dir: Path, info: SegmentInfo, dim: object) -> tuple[list[str], set[str], set[str]]:
    """(problems, live paragraph ids, live article ids) of one listed segment."""
    name = info.name
    try:
        segment = Segment.open(index_dir / name)
        tombstones = read_tombstones(index_dir, info.deletes)
        with segment.bm25.index.searcher() as searcher:
            whoosh_ids = [fields["paragraph_id"] for fields in searcher.all_stored_fields()]
        read_article_rows(index_dir / name)  # opening tolerates its absence; when there, it checked its ids
    except Exception as err:  # any unreadable part is a finding, reported rather than raised
        return [f"segment {name} unreadable: {type(err).__name__}: {err}"], set(), set()
    problems = [f"segment {name}: {p}" for p in compare_ids("paragraphs.jsonl", set(segment.ids), "Whoosh", set(whoosh_ids))]
    if len(whoosh_ids) != len(set(whoosh_ids)):
        problems.append(f"segment {name}: Whoosh holds {len(whoosh_ids) - len(set(whoosh_ids))} duplicate paragraph ids")
    if len(segment.ids) != len(set(segment.ids)):
        problems.append(f"segment {name}: FAISS holds {len(segment.ids) - len(set(segment.ids))} duplicate paragraph ids")
    mapped = segment.whoosh_rows[segment.whoosh_rows >= 0]
    if len(mapped) != segment.size or len(np.unique(mapped)) != segment.size:
        problems.append(f"segment {name}: its Whoosh documents map to {len(np.unique(mapped))} of {segment.size} rows")
    if segment.vectors.dim != dim:
        problems.append(f"segment {name}: vectors have dimension {segment.vectors.dim}, the commit point says {dim}")
    if segment.sentences is not None and len(segment.sentences) != info.sentences:
        problems.append(f"segment {name}: {len(segment.sentences)} sentence vectors, the commit point says {info.sentences}")
    if (segment.size, len(segment.articles)) != (info.rows, info.articles):
        problems.append(f"segment {name}: holds {segment.size} rows and {len(segment.articles)} articles, "
                        f"the commit point says {info.rows} and {info.articles}")
    problems += [f"segment {name}: {p}" for p in check_marks(segment)]
    unreadable = unreadable_rows(segment)
    if unreadable:
        problems.append(f"segment {name}: paragraphs.jsonl cannot be read at rows {_sample(unreadable)}")
    problems += [f"segment {name}: {p}" for p in check_articles(segment)]
    bad_rows = [r for r in tombstones.rows if not 0 <= r < segment.size]
    bad_articles = [a for a in tombstones.articles if a not in segment.articles]
    if bad_rows or bad_articles:
        problems.append(f"segment {name}: tombstones name rows or articles it does not have: {_sample(bad_rows + bad_articles)}")
    dead, dead_rows = set(tombstones.articles), set(tombstones.rows)
    half = [a for a in dead if any(int(r) not in dead_rows for r in segment.article_rows.get(a, ()))]
    if half:
        problems.append(f"segment {name}: deleted articles with live paragraphs: {_sample(half)}")
    if (len(tombstones.rows), len(tombstones.articles)) != (info.deleted_rows, info.deleted_articles):
        problems.append(f"segment {name}: {len(tombstones.rows)} deleted rows and {len(tombstones.articles)} articles, "
                        f"the commit point says {info.deleted_rows} and {info.deleted_articles}")
    live_ids = {pid for row, pid in enumerate(segment.ids) if row not in dead_rows}
    return problems, live_ids, set(segment.articles) - dead


def check_marks(segment: Segment) -> list[str]:
    """Problems of a segment's near-duplicate marks (index/store/minhash_store.py): one signature per article,
    a band index of its signed rows, stories only for its own articles."""
    marks = segment.duplicates
    problems = []
    if set(marks.ids) != set(segment.articles) or len(marks.ids) != len(segment.articles):
        problems.append(f"near-duplicate marks for {len(marks.ids)} articles, articles.jsonl has {len(segment.articles)}")
    if marks.signatures.shape != (len(marks.ids), NUM_PERM):
        problems.append(f"near-duplicate signatures of shape {marks.signatures.shape} for {len(marks.ids)} articles")
    signed = int(eligible(np.asarray(marks.signatures)).sum()) if marks.signatures.shape[1:] == (NUM_PERM,) else -1
    if marks.sorted_keys.shape != (BANDS, signed) or marks.sorted_rows.shape != (BANDS, signed):
        problems.append(f"near-duplicate band index of shape {marks.sorted_keys.shape} for {signed} signed articles")
    elif signed and ((keys := np.asarray(marks.sorted_keys))[:, 1:] < keys[:, :-1]).any():
        problems.append("near-duplicate band keys out of order")
    strangers = [aid for aid in marks.stories if aid not in segment.articles]
    if strangers:
        problems.append(f"near-duplicate stories for articles it does not have: {_sample(strangers)}")
    return problems


def check_manifest(index_dir: Path, manifest: Manifest) -> list[str]:
    """Problems of one commit point's segments, and between them."""
    problems: list[str] = []
    seen_ids: set[str] = set()
    seen_articles: set[str] = set()
    for info in manifest.segments:
        found, live_ids, live_articles = check_segment(index_dir, info, manifest.model.get("dim"))
        problems += found
        if seen_ids & live_ids:
            problems.append(f"paragraphs live in two segments: {_sample(seen_ids & live_ids)}")
        if seen_articles & live_articles:
            problems.append(f"articles live in two segments: {_sample(seen_articles & live_articles)}")
        seen_ids |= live_ids
        seen_articles |= live_articles
    if (len(seen_ids), len(seen_articles)) != (manifest.paragraphs, manifest.articles):
        problems.append(f"the commit point counts {manifest.paragraphs} paragraphs and {manifest.articles} articles, "
                        f"its segments hold {len(seen_ids)} and {len(seen_articles)} live")
    orphans = {pid.rsplit(".p", 1)[0] for pid in seen_ids} - seen_articles
    if orphans:
        problems.append(f"paragraphs of unknown articles: {_sample(orphans)}")
    return problems


def removable(index_dir: Path) -> list[str]:
    """What no kept commit point lists (left by a crash; the next writer removes it)."""
    keep = referenced(index_dir)
    return sorted(p.name for p in index_dir.iterdir()
                  if (p.name.startswith((COMMIT_PREFIX, *DATA_PREFIXES)) and p.name not in keep)
                  or p.name.startswith((WRITER_TMP, MERGE_TMP)))


def check_index(index_dir: Path) -> tuple[str, list[str]]:
    """(the commit point checked, its problems); no problems means consistent."""
    try:
        name, manifest = read_current(index_dir)
    except Exception as err:  # a missing or unreadable commit point is a finding too
        return str(index_dir), [f"unreadable index: {type(err).__name__}: {err}"]
    problems = check_manifest(index_dir, manifest)
    current = current_name(index_dir)
    for older in [n for n in commit_points(index_dir) if n < current]:
        if older not in referenced(index_dir):
            continue
        try:
            kept = read_manifest(index_dir / older)
        except Exception as err:
            problems.append(f"kept commit point {older} unreadable: {type(err).__name__}: {err}")
            continue
        missing = [s.name for s in kept.segments if not (index_dir / s.name).is_dir()]
        missing += [s.deletes for s in kept.segments if s.deletes and not (index_dir / s.deletes).is_file()]
        if missing:
            problems.append(f"kept commit point {older} lists what is gone: {_sample(missing)}")
    return name, problems
