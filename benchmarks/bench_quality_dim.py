#!/usr/bin/env python
"""fastText's dimension (and epochs) against held-out AUC and training cost, on real label sets.

    python benchmarks/bench_quality_dim.py [--warehouse WH] [--out benchmarks/results/quality_model_dim.txt]

The label sets are the ones `quality_model` builds from a materialized warehouse (default: the bundled
sample, materialized into a temporary folder first): the bootstrap labels of the rule-kept pool, and
the labels of the starter ratings (`data/ratings/starter-ratings.csv`). Each is split as training splits
it (20 % held out by a hash of doc_id); one multilingual fastText model per setting and seed is trained
on the rest and its raw held-out AUC reported, with the CPU seconds of one fit (`time.process_time`,
fastText thread=1). This is the measurement behind `FastTextParams.dim` (core/scoring/fasttext_model.py).
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

DIMS = (100, 64, 50, 32)
EPOCHS = (None, 15)  # None: auto_epochs (25 passes below 10,000 documents)
SEEDS = (1, 2, 3)


def label_sets(warehouse: Path) -> dict:
    from corpus_assets.core.package_data import default_filter_config
    from corpus_assets.core.quality.decisions import decide
    from corpus_assets.core.quality.filter_config import load_filter_config
    from corpus_assets.core.scoring.labels import LabelSettings, build_labels, rated_documents_text
    from corpus_assets.core.scoring.pool import POOL_COLUMNS, masked_pool

    signals = pl.read_delta(str(warehouse / "signals"))
    keep = decide(signals, load_filter_config(default_filter_config())).filter("keep")["doc_id"]
    documents = pl.read_delta(str(warehouse / "documents")).select(POOL_COLUMNS).unique("doc_id")
    pool = masked_pool(documents.filter(pl.col("doc_id").is_in(keep.implode())))
    sheet = pl.read_csv(ROOT / "data" / "ratings" / "starter-ratings.csv").drop_nulls("rating")
    ratings = sheet.select("doc_id", "rater", "rating").with_columns(rated_at=pl.lit(dt.datetime(2026, 1, 1)))
    rated = rated_documents_text(pool, documents, set(ratings["doc_id"].to_list()))
    return {"bootstrap": build_labels(pool, None, LabelSettings()), "starter ratings": build_labels(rated, ratings)}


def main() -> None:
    from bench_quality_model import materialize_bundled_sample

    from corpus_assets.core.scoring.fasttext_model import FastTextParams, train_classifier
    from corpus_assets.core.scoring.metrics import roc_auc
    from corpus_assets.core.scoring.splits import heldout_mask
    from corpus_assets.core.scoring.text import model_texts

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--warehouse", type=Path, help="a materialized warehouse (default: the bundled sample)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "quality_model_dim.txt")
    args = ap.parse_args()
    warehouse = args.warehouse or materialize_bundled_sample()
    lines = [f"bench_quality_dim.py {dt.datetime.now(dt.timezone.utc):%Y-%m-%dT%H:%MZ}, warehouse {warehouse}"]

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    for name, label_set in label_sets(warehouse).items():
        frame = label_set.frame
        texts = model_texts(frame["text"].to_list(), frame["lang"].to_list())
        held = heldout_mask(frame["doc_id"].to_list(), 0.2)
        labels = frame["label"].to_numpy().astype(np.int64)
        train = [t for t, h in zip(texts, held) if not h]
        test = [t for t, h in zip(texts, held) if h]
        say(f"== {name} ({label_set.source}): {frame.height} labels, {len(train)} trained on, {len(test)} held out")
        for dim in DIMS:
            for epoch in EPOCHS:
                aucs, cpu = [], 0.0
                for seed in SEEDS:
                    started = time.process_time()
                    model = train_classifier(train, labels[~held], FastTextParams(dim=dim, epoch=epoch, seed=seed))
                    cpu += time.process_time() - started
                    aucs.append(roc_auc(labels[held], model.predict_positive(test)))
                say(f"dim {dim:3d}, epochs {epoch or 'auto'}: held-out AUC {np.mean(aucs):.3f} "
                    f"(seeds {' '.join(f'{a:.3f}' for a in aucs)}), CPU per fit {cpu / len(SEEDS):.2f} s")
    args.out.write_text("\n".join(lines) + "\n")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
