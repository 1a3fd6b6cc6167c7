"""A small `corpus` Delta table for the mixture tests, made from the bundled sample in seconds.

A pytest plugin (registered in conftest.py), so tests get its fixtures by parameter name and import
only its plain names (`MIXTURES`, `synthetic_rows`, ...).

Crawled rows: every HTML page of `data/sample-crawl/` through the project's documents stage (charset,
resiliparse, lid.176), without the filters, dedup or PII masking (the mixture code does not care).
Imported rows: `data/synthetic/synthetic-qa.jsonl` as the source `synthetic-qa`, `synthetic = true`,
the way `corpus import --synthetic` tags them. `warehouse_with_synthetic` is the real thing: the sample
warehouse plus that file imported with `corpus import`.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from deltalake import write_deltalake

from corpus_assets.core.ingest.documents import DocumentSettings, record_to_row
from corpus_assets.core.ingest.langid import LanguageIdentifier
from corpus_assets.core.ingest.shards import Shard
from corpus_assets.core.ingest.warc_reader import iter_records
from corpus_assets.core.package_data import packaged_mixtures

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample-crawl"
SYNTHETIC = REPO / "data" / "synthetic" / "synthetic-qa.jsonl"
MIXTURES = packaged_mixtures()
CORPUS_COLUMNS = ["doc_id", "url", "title", "lang", "text", "n_chars"]


def crawled_rows() -> pl.DataFrame:
    langid, settings, rows = LanguageIdentifier(), DocumentSettings(), []
    for paths_file in sorted(SAMPLE.glob("crawl-data/*/warc.paths.gz")):
        crawl = paths_file.parent.name
        for number, rel_path in enumerate(gzip.decompress(paths_file.read_bytes()).decode().split()):
            with open(SAMPLE / rel_path, "rb") as stream:
                for record in iter_records(stream):
                    row, _ = record_to_row(record, Shard(crawl, number, number), rel_path, settings, langid)
                    if row is not None:
                        rows.append({column: row[column] for column in CORPUS_COLUMNS})
    return pl.DataFrame(rows).unique("doc_id", keep="first", maintain_order=True)


def synthetic_rows() -> pl.DataFrame:
    records = [json.loads(line) for line in SYNTHETIC.read_text(encoding="utf-8").splitlines()]
    return pl.DataFrame({
        "doc_id": [hashlib.blake2b(r["id"].encode(), digest_size=16).hexdigest() for r in records],
        "url": [None] * len(records), "title": [r["title"] for r in records], "lang": [r["lang"] for r in records],
        "text": [r["text"] for r in records], "n_chars": [len(r["text"]) for r in records],
    }, schema={"doc_id": pl.String, "url": pl.String, "title": pl.String, "lang": pl.String, "text": pl.String,
               "n_chars": pl.Int64})


def with_sources(crawled: pl.DataFrame, synthetic: pl.DataFrame) -> pl.DataFrame:
    return pl.concat([
        crawled.with_columns(source=pl.lit("common-crawl"), synthetic=pl.lit(False), generator=pl.lit(None, pl.String)),
        synthetic.with_columns(source=pl.lit("synthetic-qa"), synthetic=pl.lit(True),
                               generator=pl.lit("templated-qa-v1")),
    ])


def write_corpus(frame: pl.DataFrame, warehouse: Path) -> str:
    uri = str(warehouse / "corpus")
    write_deltalake(uri, frame.to_arrow(), mode="overwrite", schema_mode="overwrite")
    return uri


@pytest.fixture(scope="session")
def sample_frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    return crawled_rows(), synthetic_rows()


@pytest.fixture(scope="session")
def mixture_corpus(sample_frames, tmp_path_factory) -> str:
    """corpus with `source`, `synthetic`, `generator`: crawled pages plus the synthetic Q&A."""
    return write_corpus(with_sources(*sample_frames), tmp_path_factory.mktemp("mix-warehouse"))


@pytest.fixture(scope="session")
def legacy_corpus(sample_frames, tmp_path_factory) -> str:
    """corpus as it is before imports exist: crawled pages only, no `source`/`synthetic` columns."""
    return write_corpus(sample_frames[0], tmp_path_factory.mktemp("legacy-warehouse"))


@pytest.fixture(scope="session")
def warehouse_with_synthetic(sample_warehouse, tmp_path_factory) -> Path:
    """A copy of the sample warehouse with the synthetic Q&A imported by `corpus import --synthetic` (its own
    partition through every stage; `source`, `synthetic` and `generator` on every corpus row). Shared: copy
    it (shutil.copytree) before changing it."""
    from corpus_assets.cli import main

    warehouse = tmp_path_factory.mktemp("with-synthetic") / "warehouse"
    shutil.copytree(sample_warehouse, warehouse)
    assert main(["import", str(SYNTHETIC), "--source", "synthetic-qa", "--synthetic", "--generator", "templated-qa-v1",
                 "--warehouse", str(warehouse)]) == 0
    return warehouse
