"""What a quality model makes of a materialized warehouse: mean score by language and by host type over the
corpus, and the highest- and lowest-scored corpus pages of a few languages (to read).

    python benchmarks/quality_report.py --warehouse WH [--version N] [--langs en,de,zh,ja] [--top 20]
    python benchmarks/quality_report.py --warehouse WH --train-from-ratings data/ratings/starter-ratings.csv

Scores are computed for the corpus' documents from their `documents` text, as `quality_scores` computes them,
with the given model version (default: the active one), so any kept version can be read without activating
it. `--train-from-ratings` first imports the sheet (`corpus rate import`; the warehouse should be a copy) and
materializes `quality_model`, then reports the version it made.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpus_assets.core.scoring import registry  # noqa: E402
from corpus_assets.core.scoring.labels import host_matches  # noqa: E402


def host_types() -> dict[str, tuple[str, ...]]:
    """The allow-list's sections (its comment headers) as host types."""
    types: dict[str, list[str]] = {}
    current = "other reference"
    for line in (ROOT / "corpus_assets/data/quality/reference_hosts.txt").read_text().splitlines():
        if line.startswith("# ") and not line.startswith("# Hosts") and ":" not in line[:40] or line.startswith("# News"):
            current = line[2:].split(",")[0].split(":")[0].strip().lower()
        entry = line.split("#", 1)[0].strip().lower()
        if entry:
            types.setdefault(current, []).append(entry)
    return {name: tuple(hosts) for name, hosts in types.items()}


def train_from_ratings(warehouse: Path, sheet: Path) -> None:
    from corpus_assets.cli import main

    if main(["rate", "import", str(sheet), "--warehouse", str(warehouse)]) != 0:
        raise SystemExit("rating import failed")
    if main(["materialize", "--warehouse", str(warehouse), "--select", "quality_model"]) != 0:
        raise SystemExit("quality_model failed")


def report(warehouse: Path, version: int | None, langs: list[str], top: int) -> str:
    root = registry.models_root(warehouse)
    version = version or registry.active_version(root)
    manifest = registry.read_manifest(root, version)
    metrics = registry.read_metrics(root, version)
    corpus = pl.read_delta(str(warehouse / "corpus"), columns=["doc_id", "url", "url_host", "title", "lang"])
    docs = pl.read_delta(str(warehouse / "documents"), columns=["doc_id", "text"]).unique("doc_id")
    rows = corpus.join(docs, on="doc_id")
    scores = registry.load_scorer(root, version).score(rows["text"].to_list(), rows["lang"].to_list())
    rows = rows.with_columns(pl.Series("score", scores.quality_score)).drop("text")
    kind = pl.lit("other hosts")
    for name, hosts in host_types().items():
        kind = pl.when(host_matches(rows["url_host"], hosts)).then(pl.lit(name)).otherwise(kind)
    rows = rows.with_columns(kind.alias("host_type"))
    interval = metrics.get("auc_ci95") or [None, None]
    out = [f"## Version {version} ({manifest['label_source']}, {sum(sum(c.values()) for c in manifest['label_counts'].values())} labels)",
           "", f"held-out AUC {metrics.get('auc'):.3f} [{interval[0]:.3f}, {interval[1]:.3f}], ECE {metrics.get('ece'):.3f}, "
           f"Spearman {metrics.get('spearman') if metrics.get('spearman') is None else round(metrics['spearman'], 3)}, "
           f"host-only baseline {metrics.get('host_baseline_auc'):.3f}, host-grouped "
           f"{(metrics.get('host_grouped') or {}).get('auc') or float('nan'):.3f}; per language: "
           + ", ".join(f"{k} {v:.3f}" for k, v in sorted((metrics.get('auc_by_lang') or {}).items()) if v is not None), ""]

    def table(by: str) -> None:
        grouped = (rows.group_by(by).agg(pl.len().alias("docs"), pl.col("score").mean().alias("mean"),
                                         pl.col("score").median().alias("median"))
                   .sort(["docs", by], descending=[True, False]))
        out.extend([f"| {by} | corpus docs | mean score | median |", "|---|---:|---:|---:|"])
        out.extend(f"| {k} | {n} | {m:.3f} | {md:.3f} |" for k, n, m, md in grouped.iter_rows())
        out.append("")

    table("lang")
    table("host_type")
    for lang in langs:
        mine = rows.filter(pl.col("lang") == lang).sort(["score", "doc_id"], descending=[True, False])
        for title, part in ((f"highest {top}", mine.head(top)), (f"lowest {top}", mine.tail(top).reverse())):
            out.append(f"### {lang}: {title} of {mine.height}")
            out.extend(f"{i}. {s:.3f} {(t or '').strip()[:70]} <{u}>" for i, (s, t, u) in
                       enumerate(part.select("score", "title", "url").iter_rows(), 1))
            out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--version", type=int)
    parser.add_argument("--langs", default="en,de,zh,ja")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--train-from-ratings", type=Path)
    args = parser.parse_args(argv)
    warehouse = args.warehouse.resolve()
    version = args.version
    if args.train_from_ratings:
        train_from_ratings(warehouse, args.train_from_ratings)
        version = version or registry.list_versions(registry.models_root(warehouse))[-1]
    print(report(warehouse, version, args.langs.split(","), args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
