"""One Markdown table of a benchmark run: a row per measurement, a column per corpus size, then notes."""

from __future__ import annotations

import math
from typing import Any

from bench.common.latency import Timings
from bench.common.memory import MB

MODES = ("bm25", "dense", "hybrid")
PEER_NAMES = {"bm25": "bm25s", "dense": "numpy V@q", "hybrid": "bm25s+numpy"}


def runtime_of(build: dict) -> str:
    """The runtime and number type that embedded the passages (and, where they differ, the queries)."""
    runtime = build.get("runtime") or {}
    passages = runtime.get("passages") or f"torch/{build.get('dtype', 'float32')}"
    queries = runtime.get("queries")
    return passages if not queries or queries == passages else f"passages {passages}, queries {queries}"

def num(value: float, digits: int = 0) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"


def rate(count: int, seconds: float) -> str:
    """`count / seconds` as paragraphs per second, with the seconds."""
    if seconds <= 0 or count <= 0:
        return "n/a"
    return f"{num(count / seconds)} par/s ({num(seconds, 1)} s)"


def mb(value: int) -> str:
    return f"{num(value / MB)} MB"


def millis(value: float) -> str:
    """Milliseconds with the digits that matter: 123.4, 12.34, 0.123."""
    return num(value, 1 if value >= 100 else 2 if value >= 1 else 3)


def ms(t: Timings, qps: bool = True) -> str:
    """`p50 / p99 ms`, with the queries per second where asked."""
    if not t.ms:
        return f"no answer ({t.errors} errors)"
    text = f"{millis(t.p50())} / {millis(t.p99())} ms"
    return f"{text}, {num(t.qps(), 1)} q/s" if qps else text


def ratio(ours: Timings, peer: Timings) -> str:
    """Our median latency over the peer's (2.0 means we take twice as long)."""
    if not ours.ms or not peer.ms:
        return "n/a"
    return f"×{ours.p50() / peer.p50():.3g}"


def rows(r: dict[str, Any]) -> list[tuple[str, str]]:
    """(measurement, value) pairs for one corpus size, in table order."""
    c, ours, peer, phases = r["corpus"], r["ours"], r["peer"], r["ours"]["phases"]
    n = ours["paragraphs"]
    sec = {name: p["seconds"] for name, p in phases.items()}
    rss = {name: p["peak_rss"] for name, p in phases.items()}
    embedded = ours["embedded"]
    embed_rate = embedded / sec["embed"] if embedded and sec["embed"] > 0 else 0.0
    sentences, modelled = ours.get("sentences", 0), ours.get("sentences_embedded", 0)
    sentence_secs = sec.get("embed sentences", 0.0)
    sentence_rate = modelled / sentence_secs if modelled and sentence_secs > 0 else 0.0
    # builds measured before bench/search/fill.py named these phases "random fill"
    filled = sec.get("fill", sec.get("random fill", 0.0)) + sec.get("fill sentences", sec.get("random fill sentences", 0.0))
    # The bench times tokenising once more on its own; `zhsearch index` tokenises only inside Whoosh.
    built = ours["build_seconds"] - sec["tokenise"]
    projected = (built - sec["embed"] - sentence_secs - filled
                 + (n / embed_rate if embed_rate else 0) + (sentences / sentence_rate if sentence_rate else 0))
    procs = ours.get("whoosh_procs", 1)
    origins = ", ".join(f"{k} {num(v)}" for k, v in c["by_origin"].items())
    out = [
        ("corpus: paragraphs (articles)", f"{num(n)} ({num(ours['articles'])})"),
        ("corpus: paragraphs by origin", origins),
        ("corpus: characters per paragraph, mean / median", f"{num(c['mean_chars'])} / {num(c['median_chars'])}"),
        ("queries (cmrc / drcd / lcqmc, seeded sample)", " / ".join(num(v) for v in r["query_origins"].values())),
        ("index: tokenising, jieba search mode, title + text", rate(n, sec["tokenise"])),
        ("index: Whoosh, including its own tokenising (writer processes)", f"{rate(n, sec['whoosh'])} ({procs})"),
        ("index: Whoosh writing alone (Whoosh − tokenising)",
         rate(n, sec["whoosh"] - sec["tokenise"]) if procs == 1 else "n/a: the writer processes tokenise too"),
        ("index: embedding by the model (paragraphs embedded) ¹",
         f"{rate(embedded, sec['embed'])}; {ours['model']}, {runtime_of(ours)} ({num(embedded)})"),
        ("index: FAISS build + save (index kind)", f"{rate(n, sec['faiss'])} ({ours.get('vector_index', 'exact')})"),
        ("index: sentence vectors of multi-sentence paragraphs (embedded) ¹",
         f"{num(sentences)}; {num(sentence_rate)} sentences/s ({num(sentence_secs, 1)} s; {num(modelled)})"
         if sentences else "off"),
        ("index: FAISS sentences build + save (index kind)",
         f"{num(sec.get('faiss sentences', 0.0), 1)} s ({ours.get('sentence_index', 'exact')})" if sentences else "off"),
        ("index: docs, manifest, fsync, switch", f"{num(sec['docs'] + sec['commit'], 1)} s"),
        ("index: whole build as `zhsearch index` runs it (the bench's own tokenising pass left out) ¹", rate(n, built)),
        ("index: whole build, every paragraph embedded (projected ¹)", rate(n, projected) if embed_rate else "n/a"),
        ("peer index: bm25s from the same tokens (tokenising excluded)", rate(n, peer["phases"]["bm25s index"]["seconds"])),
        ("peak RSS indexing: whole process", mb(ours["peak_rss"])),
        ("peak RSS indexing, by phase: tokenise / Whoosh / embed / FAISS",
         " / ".join(mb(rss[p]) for p in ("tokenise", "whoosh", "embed", "faiss"))),
        ("peak RSS serving: HTTP server after every query (now)", f"{mb(r['server_peak_rss'])} ({mb(r['server_rss'])})"),
        ("peak RSS: bm25s peer build (tokens in memory)", mb(peer["peak_rss"])),
        ("index on disk: total (Whoosh / FAISS paragraphs + sentences / docs)",
         f"{mb(ours['sizes']['total'])} ({mb(ours['sizes']['whoosh'])} / {mb(ours['sizes']['faiss'])} + "
         f"{mb(ours['sizes'].get('faiss sentences', 0))} / {mb(ours['sizes']['docs'])})"),
        ("peer on disk: bm25s", mb(peer["size"])),
    ]
    for mode in MODES:
        inproc, peer_t = r["inproc"][mode], r["peers"][mode]
        out += [
            (f"{mode}: in-process p50 / p99, q/s", ms(inproc)),
            (f"{mode}: peer {PEER_NAMES[mode]} in-process p50 / p99; ours / peer", f"{ms(peer_t, False)}; {ratio(inproc, peer_t)}"),
            (f"{mode}: HTTP sequential p50 / p99, q/s", ms(r["http_seq"][mode])),
            (f"{mode}: HTTP {r['clients']} clients p50 / p99, q/s", ms(r["http_conc"][mode])),
        ]
    out += [
        ("bm25: retriever alone (no highlights; precomputed Whoosh BM25F); ours / bm25s",
         f"{ms(r['bm25_retriever'], False)}; {ratio(r['bm25_retriever'], r['peers']['bm25'])}"),
        ("bm25: top-10 overlap with bm25s (mean)", num(r["bm25_overlap"], 2)),
        ("dense: vector search alone (FAISS, sentences blended) vs exact numpy, p50 µs; ours / peer",
         f"{num(r['faiss_only'].p50() * 1000)} vs {num(r['numpy_only'].p50() * 1000)}; {ratio(r['faiss_only'], r['numpy_only'])}"),
        ("dense: recall@10 against the exact numpy top-10 (mean, min; index kind, lists probed)",
         f"{num(r['recall_mean'], 3)}, {num(r['recall_min'], 3)} ({ours.get('vector_index', 'exact')}"
         + (f", {r['probes']} probed)" if r.get("probes") else ")")),
        ("machine load average (1 min; 2 cores are shared)", r["load_average"]),
        ("server: start to healthy", f"{num(r['server_ready_seconds'], 1)} s"),
        ("errors: in-process / HTTP", f"{r['errors_inproc']} / {r['errors_http']}"),
    ]
    return out


def table(results: list[dict[str, Any]]) -> str:
    """The Markdown table: rows from the first size's order, one column per size."""
    per_size = [dict(rows(r)) for r in results]
    labels = [label for label, _ in rows(results[0])]
    head = "| measurement | " + " | ".join(f"{num(r['ours']['paragraphs'])} paragraphs" for r in results) + " |"
    rule = "|---|" + "---|" * len(results)
    body = [f"| {label} | " + " | ".join(values.get(label, "") for values in per_size) + " |" for label in labels]
    return "\n".join([head, rule, *body])


def notes(results: list[dict[str, Any]], context: dict[str, str]) -> str:
    """The footnotes: what was real and what was filled in, how to read the figures, the machine."""
    lines = []
    for r in results:
        o = r["ours"]
        n, embedded = o["paragraphs"], o["embedded"]
        if embedded < n:
            lines.append(
                f"¹ {num(n)} paragraphs: only the first {num(embedded)} were embedded by the model ({o['model']}); "
                f"the other {num(n - embedded)} were filled in (bench/search/fill.py): their {num(o.get('fill_sentences', 0))} "
                "distinct sentences embedded once by the model, a paragraph vector the unit mean of its sentences' "
                "vectors, a sentence vector the model's own. Such vectors cluster as real ones do, so the FAISS index, "
                "latency and recall run at full size, but a filled paragraph's vector is not the model's. Embedding "
                "throughput is measured on the embedded part (seed news and Wikipedia passages first: longer than the "
                "corpus average); the projected build replaces embedding and fill by all paragraphs and sentences "
                "at those rates.")
        else:
            lines.append(f"¹ {num(n)} paragraphs: every paragraph embedded by the model ({o['model']}).")
    if context.get("fake") == "yes":
        lines.append("**Fake encoder** (tests/fakes.py, character bigrams, dim 64): a development run, "
                     "not a measurement of the real model.")
    lines += [
        "Latencies are milliseconds, p50 (the median) / p99 over the timed queries, after 5 warm-up queries; "
        "q/s is answered queries per second of wall time (all clients together; in-process, of the "
        "time spent in our calls). Ours and its peer are timed query by query, back to back, alternating "
        "which goes first, so that load from other processes falls on both alike. Ours: `Searcher.search` "
        "(k = 10, highlights included) in-process, `GET /search` over HTTP. Ratios are ours / peer at p50. "
        "Over HTTP each dense and hybrid loop asks queries of its own, sampled from the same sets, which no "
        "earlier loop asked (since 2026-12-05): a service keeps the vector of each recent query text, and "
        "before then those loops but the first (dense, one client) timed searches without the model.",
        "Peers, in the same process on the same corpus and queries: bm25s (k1 1.2, b 0.75, as Whoosh's BM25F) "
        "over the same jieba terms of title + text (ours: BM25F, title boost 2); exact `V @ q` in numpy "
        "over the same vectors (query encoding included in both); hybrid peer: bm25s and numpy top-k0 (100) "
        "fused by the project's `weighted_sum` at alpha 0.5 (ours: adaptive alpha, which also needs IDF "
        "look-ups and tokenising the best hit).",
        "Recall counts a FAISS hit whose exact score ties the 10th best as found. Peak RSS is the process's "
        "resident high-water mark (/proc VmHWM or getrusage), per phase the highest 20 ms sample.",
        "Corpus: real paragraphs first (seeds/, CMRC and DRCD passages, LCQMC questions), then paragraphs "
        "recombined from their sentences; see bench/common/corpus.py for how it differs from real news.",
        " ".join(f"{k}: {v}." for k, v in context.items() if k != "fake"),
    ]
    return "\n\n".join(lines)
