"""Quality model: scoring throughput, training time, and held-out quality on real crawls.

    python benchmarks/bench_quality_model.py [--warehouse WH ...] [--sizes 10000 100000]
                                             [--full-build-sizes 10000] [--ratings data/ratings/starter-ratings.csv]
                                             [--out benchmarks/results/quality_model.txt]

Each `--warehouse` is a materialized warehouse (`corpus materialize --warehouse WH`); without one, the
bundled sample is materialized into a temporary directory first. For each warehouse the script trains
the bootstrap model with default settings and reports held-out AUC (95 % interval), ECE, per-language
AUC, the host-only baseline and the host-grouped AUC, plus mean score by language and by host type;
when the rating file (`--ratings`, default `data/ratings/starter-ratings.csv`) rates documents of the
warehouse, the same for the rating-trained model (rated pages the filters dropped count too, with
their text PII-masked). On the first warehouse it then measures, on one core (fastText thread=1,
Polars pinned to one thread):

* scoring: documents per CPU-second for raw text -> calibrated score (texts cycled to >= 20,000
  documents), split into tokenising and fastText + calibration, overall and per language;
* training: one fastText fit on N labelled documents (the label set's texts cycled to N), and the
  whole `train_quality_model` (calibration folds, host-grouped check) for `--full-build-sizes`.

Timings are CPU seconds of this process (`time.process_time`), with wall seconds beside them.
"""
from __future__ import annotations

import os

os.environ.setdefault("POLARS_MAX_THREADS", "1")  # must happen before polars is imported

import argparse
import datetime as dt
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus_assets.core.scoring.fasttext_model import FastTextParams, auto_epochs, train_classifier  # noqa: E402
from corpus_assets.core.scoring.labels import (  # noqa: E402
    LabelSet,
    build_labels,
    host_matches,
    labels_from_ratings,
    load_reference_hosts,
    rated_documents_text,
)
from corpus_assets.core.scoring.sheets import read_ratings  # noqa: E402
from corpus_assets.core.scoring.text import model_texts  # noqa: E402
from corpus_assets.core.scoring.training import TrainedQualityModel, TrainSettings, train_quality_model  # noqa: E402

STARTER_RATINGS = ROOT / "data" / "ratings" / "starter-ratings.csv"
SCORING_DOCS = 20_000
OUT: list = []  # the open results file, written line by line so a long run leaves what it measured


def say(line: str = "") -> None:
    print(line, flush=True)
    for fh in OUT:
        fh.write(line + "\n")
        fh.flush()


def read_corpus(warehouse: Path) -> pl.DataFrame:
    from deltalake import DeltaTable

    columns = ["doc_id", "url", "url_host", "lang", "title", "text", "n_chars"]
    return pl.from_arrow(DeltaTable(str(warehouse / "corpus")).to_pyarrow_table(columns=columns)).sort("doc_id")


def materialize_bundled_sample() -> Path:
    from corpus_assets.cli import main as corpus

    tmp = Path(tempfile.mkdtemp(prefix="bench-quality-"))
    (tmp / "dagster").mkdir()
    (tmp / "dagster" / "dagster.yaml").write_text("")
    os.environ["DAGSTER_HOME"] = str(tmp / "dagster")
    if corpus(["materialize", "--warehouse", str(tmp / "warehouse")]) != 0:
        raise SystemExit("materializing the bundled sample failed")
    return tmp / "warehouse"


def fmt(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def report_model(name: str, trained: TrainedQualityModel, corpus: pl.DataFrame) -> None:
    m = trained.metrics
    interval = m.get("auc_ci95") or [None, None]
    say(f"{name}: label source {trained.label_source}, {sum(sum(c.values()) for c in trained.label_counts.values())} "
        f"labels, trained in {trained.seconds:.1f} s wall")
    say(f"  held-out ({m['heldout_docs']} docs, {m.get('heldout_positive')} positive; doc_id-hash split): "
        f"AUC {fmt(m['auc'])} [95 % {fmt(interval[0])}, {fmt(interval[1])}], raw AUC {fmt(m.get('auc_raw'))}, "
        f"ECE {fmt(m.get('ece'))}, Spearman {fmt(m.get('spearman'))}")
    say(f"  host-only baseline AUC {fmt(m.get('host_baseline_auc'))} (same held-out docs)")
    hg = m.get("host_grouped") or {}
    say(f"  host-grouped {hg.get('folds')}-fold AUC of the multilingual model (no page scored by a model that saw "
        f"its host): {fmt(hg.get('auc'))} over {hg.get('docs')} docs, {hg.get('hosts')} hosts")
    by_lang = m.get("auc_by_lang") or {}
    counts = m.get("heldout_docs_by_lang") or {}
    say("  held-out AUC by language: " + ", ".join(f"{k} {fmt(v, 2)} (n={counts.get(k)})" for k, v in by_lang.items()))
    hg_lang = {k: v for k, v in (hg.get("auc_by_lang") or {}).items() if v is not None}
    say("  host-grouped AUC by language: " + ", ".join(f"{k} {fmt(v, 2)}" for k, v in hg_lang.items()))
    for key, info in m["models"].items():
        say(f"  model {key}: {info['train_docs']} training docs ({info['train_positive']} positive), "
            f"{info['epochs']} epochs at lr {info['lr_used']}, calibration {info['calibration']} on "
            f"{info['calibration_labels']} out-of-fold scores (out-of-fold AUC {fmt(info['out_of_fold_auc'])})")
    scores = trained.scorer().score(corpus["text"].to_list(), corpus["lang"].to_list())
    scored = corpus.with_columns(
        pl.Series("quality_score", scores.quality_score),
        pl.when(host_matches(corpus["url_host"], load_reference_hosts())).then(pl.lit("allow-listed docs/news"))
        .otherwise(pl.lit("other hosts")).alias("host_type"))
    by_lang_mean = (scored.group_by("lang").agg(pl.len().alias("n"), pl.col("quality_score").mean().alias("mean"))
                    .sort("n", descending=True))
    say("  mean score by language (corpus): " + ", ".join(
        f"{r['lang']} {r['mean']:.2f} (n={r['n']})" for r in by_lang_mean.iter_rows(named=True)))
    by_type = scored.group_by("host_type").agg(pl.len().alias("n"), pl.col("quality_score").mean().alias("mean")).sort("host_type")
    say("  mean score by host type: " + ", ".join(
        f"{r['host_type']} {r['mean']:.2f} (n={r['n']})" for r in by_type.iter_rows(named=True)))
    say("  documents per quality_bucket 0..9: " + " ".join(str(c) for c in np.bincount(scores.quality_bucket, minlength=10)))


def starter_label_set(warehouse: Path, corpus: pl.DataFrame, ratings: Path) -> LabelSet | None:
    """Labels from a rating file, for the rated documents this warehouse holds (the others are counted)."""
    from deltalake import DeltaTable

    if not ratings.is_file():
        return None
    documents = pl.from_arrow(DeltaTable(str(warehouse / "documents")).to_pyarrow_table(
        columns=["doc_id", "lang", "url_host", "text"]))
    rated_ids = set(pl.read_csv(ratings, columns=["doc_id"])["doc_id"].to_list())
    present = rated_ids & set(documents["doc_id"].to_list())
    if not present:
        return None
    filtered = Path(tempfile.mkdtemp()) / ratings.name  # keep the rows of documents in this warehouse
    pl.read_csv(ratings).filter(pl.col("doc_id").is_in(sorted(present))).write_csv(filtered)
    parsed = read_ratings(filtered, present, default_rater="starter")
    say(f"ratings {ratings}: {len(rated_ids)} rated documents, {len(present)} in this warehouse "
        f"({len(present & set(corpus['doc_id'].to_list()))} in corpus, the rest dropped by the filters)")
    return LabelSet(labels_from_ratings(parsed.rows, rated_documents_text(corpus, documents, present)), "ratings")


def bench_scoring(trained: TrainedQualityModel, corpus: pl.DataFrame) -> None:
    reps = -(-SCORING_DOCS // corpus.height)
    texts = corpus["text"].to_list() * reps
    langs = corpus["lang"].to_list() * reps
    scorer = trained.scorer()
    scorer.score(texts[:200], langs[:200])  # warm-up: jieba-rs dictionary, regex caches
    cpu0, wall0 = time.process_time(), time.perf_counter()
    prepared = model_texts(texts, langs, scorer.max_chars)
    cpu1 = time.process_time()
    scorer.score_model_texts(prepared, langs)
    cpu2, wall2 = time.process_time(), time.perf_counter()
    n = len(texts)
    say(f"scoring {n:,} documents ({corpus.height} corpus texts cycled {reps}x, {corpus['n_chars'].mean():,.0f} chars/doc, "
        f"first {scorer.max_chars} chars used), one core:")
    say(f"  total {n / (cpu2 - cpu0):,.0f} docs per CPU-s ({n / (wall2 - wall0):,.0f} docs/s wall); "
        f"tokenising {n / (cpu1 - cpu0):,.0f} docs per CPU-s, fastText + calibration {n / (cpu2 - cpu1):,.0f}")
    per_lang = []
    for lang in [lang for lang, _ in corpus.group_by("lang").len().sort("len", descending=True).iter_rows()][:8]:
        mine = [t for t, lg in zip(texts, langs) if lg == lang]
        t0 = time.process_time()
        scorer.score(mine, [lang] * len(mine))
        per_lang.append(f"{lang} {len(mine) / (time.process_time() - t0):,.0f}")
    say("  by language (docs per CPU-s): " + ", ".join(per_lang))


def bench_training(label_set: LabelSet, sizes: list[int], full_build_sizes: list[int]) -> None:
    frame = label_set.frame
    texts = model_texts(frame["text"].to_list(), frame["lang"].to_list())
    labels = frame["label"].to_numpy()
    for n in sizes:
        idx = np.arange(n) % len(texts)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        classifier = train_classifier([texts[i] for i in idx], labels[idx], FastTextParams())
        say(f"training one fastText model on {n:,} labelled documents ({classifier.epochs} epochs, lr "
            f"{classifier.lr_used}): {time.process_time() - cpu0:.1f} CPU-s, {time.perf_counter() - wall0:.1f} s wall")
    for n in full_build_sizes:
        reps = -(-n // frame.height)
        big = pl.concat([frame.with_columns(pl.col("doc_id") + f"#{r}") for r in range(reps)]).head(n)
        settings = TrainSettings(bootstrap_resamples=200)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        trained = train_quality_model(LabelSet(big, label_set.source), settings)
        restarts = sum(info["nan_retries"] for info in trained.metrics["models"].values())
        say(f"whole train_quality_model on {n:,} labelled documents ({len(trained.classifiers)} model(s), "
            f"{settings.calibration_folds} calibration folds + {settings.host_grouped_folds} host-grouped folds, "
            f"{auto_epochs(int(0.8 * n))} epochs; NaN restarts of final models: {restarts}): "
            f"{time.process_time() - cpu0:.1f} CPU-s in this process, {time.perf_counter() - wall0:.1f} s wall")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warehouse", action="append", type=Path, default=[])
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    ap.add_argument("--full-build-sizes", type=int, nargs="*", default=[10_000])
    ap.add_argument("--ratings", type=Path, default=STARTER_RATINGS, help="a rating sheet (default: the starter set)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "quality_model.txt")
    args = ap.parse_args()
    warehouses = args.warehouse or [materialize_bundled_sample()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    OUT.append(open(args.out, "w", encoding="utf-8"))
    say(f"bench_quality_model.py, {dt.date.today()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}")
    say(f"defaults: {TrainSettings()}")
    first_corpus, first_model, first_labels = None, None, None
    for warehouse in warehouses:
        corpus = read_corpus(warehouse)
        say()
        say(f"== {warehouse}: corpus {corpus.height} documents, {corpus['lang'].n_unique()} languages, "
            f"{corpus['url_host'].n_unique()} hosts")
        label_set = build_labels(corpus, None)
        trained = train_quality_model(label_set)
        report_model("bootstrap model", trained, corpus)
        rated = starter_label_set(warehouse, corpus, args.ratings)
        if rated is not None and rated.frame.height:
            report_model(f"rating-trained model ({args.ratings.name})", train_quality_model(rated), corpus)
        else:
            say(f"rating-trained model: no ratings of this warehouse's documents in {args.ratings}")
        if first_corpus is None:
            first_corpus, first_model, first_labels = corpus, trained, label_set
    say()
    say(f"== throughput, on {warehouses[0]}")
    bench_scoring(first_model, first_corpus)
    bench_training(first_labels, args.sizes, args.full_build_sizes)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
