"""Markdown tables for the quality assets' materialization metadata."""
from __future__ import annotations

import dagster as dg


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def measures_markdown(metrics: dict) -> dg.MetadataValue:
    """Held-out measures of a version, with what each one says."""
    interval = metrics.get("auc_ci95") or [None, None]
    grouped = (metrics.get("host_grouped") or {}).get("auc")
    rows = [
        ("held-out ROC AUC", f"{_fmt(metrics.get('auc'))} [{_fmt(interval[0])}, {_fmt(interval[1])}]",
         "does the score order good pages above poor ones (bootstrap 95 % interval)"),
        ("Spearman ρ", _fmt(metrics.get("spearman")), "rank correlation with the mean rating (rating-trained)"),
        ("ECE", _fmt(metrics.get("ece")), "does a score of 0.7 mean 70 % (10 bins)"),
        ("host-only baseline AUC", _fmt(metrics.get("host_baseline_auc")),
         "a model that knows only the host; the model should beat it"),
        ("host-grouped AUC", _fmt(grouped), "no page scored by a model that saw its host"),
        ("held-out labels", f"{metrics.get('heldout_docs', 0)} ({metrics.get('heldout_positive', '–')} positive)", ""),
    ]
    lines = ["| measure | value | meaning |", "|---|---:|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return dg.MetadataValue.md("\n".join(lines))


def auc_by_lang_markdown(metrics: dict) -> dg.MetadataValue:
    aucs = metrics.get("auc_by_lang") or {}
    docs = metrics.get("heldout_docs_by_lang") or {}
    grouped = (metrics.get("host_grouped") or {}).get("auc_by_lang") or {}
    langs = sorted(set(aucs) | set(docs), key=lambda lang: (-docs.get(lang, 0), lang))
    if not langs:
        return dg.MetadataValue.md("_(no held-out labels)_")
    lines = ["| language | held-out AUC | host-grouped AUC | held-out labels |", "|---|---:|---:|---:|"]
    lines += [f"| {lang or '(none)'} | {_fmt(aucs.get(lang))} | {_fmt(grouped.get(lang))} | {docs.get(lang, 0)} |"
              for lang in langs]
    return dg.MetadataValue.md("\n".join(lines))


def label_counts_markdown(counts: dict) -> dg.MetadataValue:
    lines = ["| language | train + | train − | held-out + | held-out − |", "|---|---:|---:|---:|---:|"]
    for lang, c in sorted(counts.items(), key=lambda item: -sum(item[1].values())):
        lines.append(f"| {lang or '(none)'} | {c['train_positive']} | {c['train_negative']} | "
                     f"{c['heldout_positive']} | {c['heldout_negative']} |")
    return dg.MetadataValue.md("\n".join(lines))


def thresholds_markdown(percentiles: dict[str, list[float]]) -> dg.MetadataValue:
    """Scores at a few token percentiles per language: e.g. keeping the top 30 % of tokens = score >= p70."""
    if not percentiles:
        return dg.MetadataValue.md("_(no thresholds: no page to score)_")
    points = (10, 30, 50, 70, 90)
    lines = ["| language | " + " | ".join(f"p{p}" for p in points) + " |", "|---|" + "---:|" * len(points)]
    for lang, values in sorted(percentiles.items()):
        lines.append(f"| {'all' if lang == '*' else lang} | " + " | ".join(f"{values[p]:.3f}" for p in points) + " |")
    return dg.MetadataValue.md("\n".join(lines))


def mean_by_markdown(rows: list[tuple[str, int, float]], key: str) -> dg.MetadataValue:
    lines = [f"| {key} | documents | mean score |", "|---|---:|---:|"]
    lines += [f"| {name or '(none)'} | {n:,} | {mean:.3f} |" for name, n, mean in rows]
    return dg.MetadataValue.md("\n".join(lines) if rows else "_(none)_")
