"""Consistency check of an index: every paragraph id in docs, Whoosh and FAISS alike, manifest agreeing."""

from __future__ import annotations

from pathlib import Path

from index.store.bm25_store import BM25Store
from index.store.docstore import DocStore
from index.generations import current_generation
from index.manifest import read_manifest
from index.store.vector_store import SENTENCE_FILES, VectorStore


def _sample(ids: set[str]) -> str:
    return ", ".join(sorted(ids)[:5]) + (" …" if len(ids) > 5 else "")


def compare_ids(name_a: str, a: set[str], name_b: str, b: set[str]) -> list[str]:
    """Problems where two id sets differ, naming a few ids on each side."""
    problems = []
    if a - b:
        problems.append(f"{len(a - b)} paragraph ids in {name_a} but not in {name_b}: {_sample(a - b)}")
    if b - a:
        problems.append(f"{len(b - a)} paragraph ids in {name_b} but not in {name_a}: {_sample(b - a)}")
    return problems


def check_index(index_dir: Path) -> tuple[str, list[str]]:
    """(the generation checked, its problems); no problems means consistent."""
    try:
        folder = current_generation(index_dir)
        manifest = read_manifest(folder)
        docs = DocStore.open(folder)
        vectors = VectorStore.open(folder)
        sentences = VectorStore.open(folder, SENTENCE_FILES) if manifest.sentence_vectors else None
        bm25 = BM25Store.open(folder)
        with bm25.index.searcher() as searcher:
            whoosh_ids = [fields["paragraph_id"] for fields in searcher.all_stored_fields()]
    except Exception as err:  # any unreadable part is a finding, reported rather than raised
        return str(index_dir), [f"unreadable index: {type(err).__name__}: {err}"]
    problems = []
    doc_ids, vector_ids = set(docs.paragraphs), set(vectors.ids)
    problems += compare_ids("paragraphs.jsonl", doc_ids, "Whoosh", set(whoosh_ids))
    problems += compare_ids("paragraphs.jsonl", doc_ids, "FAISS", vector_ids)
    if len(whoosh_ids) != len(set(whoosh_ids)):
        problems.append(f"Whoosh holds {len(whoosh_ids) - len(set(whoosh_ids))} duplicate paragraph ids")
    if len(vectors.ids) != len(vector_ids):
        problems.append(f"FAISS holds {len(vectors.ids) - len(vector_ids)} duplicate paragraph ids")
    counts = {"articles": len(docs.articles), "paragraphs": len(doc_ids), "vectors": vectors.index.ntotal}
    for key, actual in counts.items():
        if getattr(manifest, key) != actual:
            problems.append(f"manifest says {getattr(manifest, key)} {key}, the index holds {actual}")
    if manifest.model.get("dim") != vectors.dim:
        problems.append(f"manifest says dimension {manifest.model.get('dim')}, vectors have {vectors.dim}")
    if sentences is not None:
        strays = set(sentences.ids) - doc_ids  # (one-sentence paragraphs have none: no reverse check)
        if strays:
            problems.append(f"{len(strays)} paragraph ids in sentence vectors but not in paragraphs.jsonl: {_sample(strays)}")
        if manifest.sentences != sentences.index.ntotal:
            problems.append(f"manifest says {manifest.sentences} sentence vectors, the index holds {sentences.index.ntotal}")
    orphans = {p.article_id for p in docs.paragraphs.values()} - set(docs.articles)
    if orphans:
        problems.append(f"paragraphs of unknown articles: {_sample(orphans)}")
    return folder.name, problems
