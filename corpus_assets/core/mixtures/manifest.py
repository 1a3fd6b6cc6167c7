"""The manifest of a mixture build: what was asked, what was read, what came out.

A JSON document with no timestamps, so the same spec on the same input versions gives the same bytes:
the spec hash and the normalised spec, the Delta version of every input table read, the quality
model version(s) and thresholds in force, and per stage and source: tokens, documents, rows, target
vs achieved share, repeats, shortfalls, synthetic caps and spot-check ratings.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import polars as pl

from corpus_assets.core.mixtures.select import Selection, StageResult
from corpus_assets.core.mixtures.spec import MixtureSpec

MANIFEST_VERSION = 1


def build_manifest(spec: MixtureSpec, selection: Selection, inputs: dict[str, dict[str, Any]],
                   quality: dict[str, Any] | None = None) -> dict[str, Any]:
    """`inputs`: {table: {"delta_version": N, ...}} for every table read; `quality`: the model version(s)
    and thresholds in force (None when the corpus has no quality scores yet)."""
    rows = selection.rows
    stages = [_stage(stage) for stage in selection.stages]
    return {
        "manifest_version": MANIFEST_VERSION,
        "mixture": spec.name,
        "spec_hash": spec.spec_hash,
        "derived_from": spec.derived_from,
        "spec": spec.normalised(),
        "inputs": inputs,
        "quality": quality,
        "totals": {
            "tokens": int(rows["n_tokens"].sum()),
            "rows": rows.height,
            "documents": rows["doc_id"].n_unique(),
            "repeated_rows": int((rows["copy"] > 0).sum()),
            "synthetic_tokens": int(rows.filter(rows["synthetic"])["n_tokens"].sum()),
        },
        "stages": stages,
        "shortfalls": [{"stage": stage["name"], "source": source["source"], "tokens_needed": source["target_tokens"],
                        "tokens": source["tokens"], "shortfall_tokens": source["shortfall_tokens"],
                        "pool_tokens": source["pool_tokens"], "max_epochs": source["max_epochs"]}
                       for stage in stages for source in stage["sources"] if source["shortfall_tokens"]],
    }


def _stage(stage: StageResult) -> dict[str, Any]:
    sources = []
    for result in stage.sources:
        item = asdict(result)
        item.pop("stage")
        item["target_share"] = _rounded(item.pop("weight"))
        item["share"] = _rounded(item["share"])
        item["share_error_pp"] = _rounded(100 * (result.share - result.weight))
        item["target_tokens"] = round(result.target_tokens)
        item["shortfall_tokens"] = round(result.shortfall_tokens)
        sources.append(item)
    return {"name": stage.name, "token_budget": stage.token_budget, "tokens": stage.tokens,
            "budget_met_share": _rounded(stage.tokens / stage.token_budget), "rows": stage.rows,
            "empty_documents": stage.empty_documents, "sources": sources}


def _rounded(value: float) -> float:
    return round(float(value), 6)


SOURCE_TABLE_SCHEMA = {"stage": pl.String, "source": pl.String, "synthetic": pl.Boolean, "target_share": pl.Float64,
                       "share": pl.Float64, "max_share": pl.Float64, "share_enforced": pl.Boolean,
                       "target_tokens": pl.Int64, "tokens": pl.Int64, "documents": pl.Int64, "rows": pl.Int64,
                       "copies": pl.Int64, "shortfall_tokens": pl.Int64}


def source_table(manifest: dict[str, Any]) -> pl.DataFrame:
    """One row per stage and source, in curriculum and spec order: what was asked and what the build gave.
    `share_enforced` is false in a stage with a recorded shortfall (its shares are reported, not held to 1 pp)."""
    rows = []
    for stage in manifest["stages"]:
        enforced = not any(source["shortfall_tokens"] for source in stage["sources"])
        rows += [{"stage": stage["name"], "share_enforced": enforced,
                  **{key: source[key] for key in SOURCE_TABLE_SCHEMA if key in source},
                  "source": source["source"]} for source in stage["sources"]]
    return pl.DataFrame(rows, schema=SOURCE_TABLE_SCHEMA)


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_manifest(manifest: dict[str, Any], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(manifest_bytes(manifest))
    return path


def read_manifest(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))
