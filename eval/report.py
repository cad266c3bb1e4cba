"""A Markdown report with the metrics table, significance marks and a PNG chart of metric by mode."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

CHART_FILE = "metrics.png"
REPORT_FILE = "report.md"


def better_than(mode: str, metric: str, comparisons: list[dict]) -> list[str]:
    """The modes `mode` beats significantly on `metric`."""
    beaten = []
    for row in comparisons:
        if row["metric"] != metric or not row["significant"]:
            continue
        if row["a"] == mode and row["difference"] > 0:
            beaten.append(row["b"])
        elif row["b"] == mode and row["difference"] < 0:
            beaten.append(row["a"])
    return beaten


def metrics_table(scores: dict[str, dict[str, float]], comparisons: list[dict]) -> str:
    """Markdown table, one row a mode; a cell notes the modes it beats significantly."""
    metrics = list(next(iter(scores.values())))
    lines = ["| mode | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for mode, values in scores.items():
        cells = []
        for metric in metrics:
            beaten = better_than(mode, metric, comparisons)
            mark = f" (> {', '.join(beaten)})" if beaten else ""
            cells.append(f"{values[metric]:.4f}{mark}")
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def draw_chart(scores: dict[str, dict[str, float]], path: Path, title: str) -> None:
    """Grouped bars: one group a metric, one bar a mode."""
    metrics = list(next(iter(scores.values())))
    modes = list(scores)
    width = 0.8 / len(modes)
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=120)
    for i, mode in enumerate(modes):
        xs = [m + (i - (len(modes) - 1) / 2) * width for m in range(len(metrics))]
        bars = ax.bar(xs, [scores[mode][m] for m in metrics], width, label=mode)
        ax.bar_label(bars, fmt="%.3f", fontsize=6, rotation=90, padding=2)
    lowest = min(v for values in scores.values() for v in values.values())
    ax.set_ylim(max(0.0, lowest - 0.1), 1.02)
    ax.set_xticks(range(len(metrics)), metrics)
    ax.set_ylabel("score")
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=len(modes), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def describe_model(model: dict[str, object]) -> str:
    """"name (passages runtime/dtype, queries runtime/dtype)", or the number type alone for older records."""
    if model.get("passages") and model.get("queries"):
        return f"{model.get('name')} (passages {model['passages']}, queries {model['queries']})"
    return f"{model.get('name')} ({model.get('dtype')})"


def describe_setup(setup: dict[str, object]) -> str:
    """One line naming what was measured: the hybrid's fusion, the model, the sentence weight."""
    fusion = setup.get("fusion") or {}
    model = setup.get("model") or {}
    condensed = " Metrics over judged documents only (condensed lists); judged@10 of the runs as served." \
        if setup.get("condensed") else ""
    if setup.get("url"):
        overrides = ", ".join(f"{k} {v}" for k, v in fusion.items()) or "its own defaults"
        rejected = f"; {setup['rejected_queries']} requests rejected" if setup.get("rejected_queries") else ""
        return (f"Service {setup['url']} ({setup.get('backend')}, commit {setup.get('commit')}, "
                f"{setup.get('paragraphs')} paragraphs): model {describe_model(model)}; "
                f"fusion: {overrides}{rejected}." + condensed)
    if fusion.get("method") == "adaptive":
        how = f"adaptive, dense weight {fusion.get('alpha_min')}–{fusion.get('alpha_max')}"
    elif fusion.get("method") == "rrf":
        how = f"RRF k {fusion.get('rrf_k')}"
    else:
        how = f"weighted, dense weight {fusion.get('alpha')}"
    return (f"Hybrid: {how}, k0 {fusion.get('k0')}, article weight {fusion.get('article_weight')}; "
            f"model {describe_model(model)}; sentence weight {setup.get('sentence_weight')}."
            + condensed)


def write_report(folder: Path, dataset: str, queries: int, scores: dict[str, dict[str, float]],
                 comparisons: list[dict], losses: list[dict], setup: dict[str, object] | None = None) -> Path:
    """Write report.md and metrics.png into `folder`; returns the report's path."""
    folder.mkdir(parents=True, exist_ok=True)
    draw_chart(scores, folder / CHART_FILE, f"{dataset} ({queries} queries)")
    test = comparisons[0]["test"] if comparisons else "none"
    parts = [
        f"# Relevance on {dataset}", "",
        f"{queries} judged queries. Significance: {test}, p < 0.05; "
        "a cell's note lists the modes it beats significantly.", "",
        *([describe_setup(setup), ""] if setup else []),
        metrics_table(scores, comparisons), "", f"![metric by mode]({CHART_FILE})", "",
    ]
    if comparisons:
        parts += ["## Paired comparisons", "", "| a | b | metric | a − b | p |", "|---|---|---|---|---|"]
        parts += [f"| {r['a']} | {r['b']} | {r['metric']} | {r['difference']:+.4f} | {r['p_value']:.4f} |"
                  for r in comparisons]
        parts.append("")
    if losses:
        parts += [f"## Queries where hybrid ranks the answer lower than the better single mode ({len(losses)})", "",
                  "| query | hybrid rank | better mode | its rank |", "|---|---|---|---|"]
        parts += [f"| {r['query']} | {r['hybrid_rank'] or '—'} | {r['best_single_mode']} | {r['best_single_rank']} |"
                  for r in losses[:50]]
    path = folder / REPORT_FILE
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path
