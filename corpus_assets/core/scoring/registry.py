"""Versioned quality models next to the warehouse, and which one is active.

Layout (`root` is `<warehouse>/_models/quality`):

    <root>/<version>/fasttext-<key>.bin   one fastText model per key (a language code, or "multilingual")
    <root>/<version>/calibration.json     {key: calibrator}
    <root>/<version>/metrics.json         held-out and host-grouped measures
    <root>/<version>/thresholds.json      token-weighted score percentiles per language (`thresholds`)
    <root>/<version>/heldout.parquet      the held-out labels and their scores (doc_id, ..., quality_score)
    <root>/<version>/manifest.json        version, created_at, label source and counts, parameters, file hashes
    <root>/activations.jsonl              one line per decision: version, active or not, reason, time

Versions are increasing integers (1, 2, ...); a version's directory is created atomically, so two
trainings at once get different numbers. The active version is the last one an activation line made
active. **Activation rule**: a new version becomes active only if its held-out AUC is no worse than the
active version's AUC on the same held-out labels (the active model re-scores the new held-out set);
otherwise it is kept, not activated, and its line says why. Any kept version can be activated again
by hand (`activate`), which is how a rollback works.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from corpus_assets.core.hashing import file_sha256
from corpus_assets.core.scoring.calibration import Calibrator
from corpus_assets.core.scoring.fasttext_model import load_classifier
from corpus_assets.core.scoring.metrics import roc_auc
from corpus_assets.core.scoring.scorer import QualityScorer
from corpus_assets.core.scoring.training import TrainedQualityModel

MODELS_SUBDIR = Path("_models") / "quality"
ACTIVATIONS = "activations.jsonl"


def models_root(warehouse: str | os.PathLike) -> Path:
    return Path(warehouse) / MODELS_SUBDIR


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def list_versions(root: Path) -> list[int]:
    if not root.is_dir():
        return []
    return sorted(int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit())


def _new_version_dir(root: Path) -> tuple[int, Path]:
    root.mkdir(parents=True, exist_ok=True)
    version = (list_versions(root) or [0])[-1] + 1
    while True:
        path = root / str(version)
        try:
            path.mkdir()
            return version, path
        except FileExistsError:  # another training took this number
            version += 1


def _write_json(path: Path, data) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str), encoding="utf-8")
    tmp.replace(path)


def read_manifest(root: Path, version: int) -> dict:
    path = root / str(version) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no quality model version {version}")
    return json.loads(path.read_text(encoding="utf-8"))


def save_version(root: Path, trained: TrainedQualityModel, extra: dict | None = None) -> int:
    """Write a trained model as a new version (not yet activated); returns its number. `extra` goes
    into the manifest as well (e.g. the fingerprint of the labels it learned from)."""
    version, path = _new_version_dir(root)
    for key, classifier in trained.classifiers.items():
        classifier.save(path / f"fasttext-{key}.bin")
    _write_json(path / "calibration.json", {k: c.to_json() for k, c in trained.calibrators.items()})
    _write_json(path / "metrics.json", trained.metrics)
    trained.heldout.drop("text").write_parquet(path / "heldout.parquet")
    files = {p.name: file_sha256(p) for p in sorted(path.iterdir()) if p.is_file()}
    _write_json(path / "manifest.json", {
        "version": version,
        "created_at": _now(),
        "label_source": trained.label_source,
        "label_counts": trained.label_counts,
        "parameters": trained.settings.as_dict(),
        "model_keys": sorted(trained.classifiers),
        "files": files,
        "file_hash": hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest(),
        "training_seconds": round(trained.seconds, 3),
        **(extra or {}),
    })
    return version


def version_with(root: Path, key: str, value) -> int | None:
    """The newest version whose manifest has `key` == `value` (e.g. the same label fingerprint), or None."""
    for version in reversed(list_versions(root)):
        try:
            if read_manifest(root, version).get(key) == value:
                return version
        except FileNotFoundError:  # a version being written right now
            continue
    return None


def read_metrics(root: Path, version: int) -> dict:
    return json.loads((root / str(version) / "metrics.json").read_text(encoding="utf-8"))


def load_scorer(root: Path, version: int) -> QualityScorer:
    manifest = read_manifest(root, version)
    path = root / str(version)
    calibration = json.loads((path / "calibration.json").read_text(encoding="utf-8"))
    models = {key: load_classifier(path / f"fasttext-{key}.bin") for key in manifest["model_keys"]}
    calibrators = {key: Calibrator.from_json(calibration[key]) for key in manifest["model_keys"]}
    return QualityScorer(models, calibrators, int(manifest["parameters"]["max_chars"]), version)


def save_thresholds(root: Path, version: int, percentiles: dict[str, list[float]], scored_docs: int) -> None:
    """Store a version's token-weighted score percentiles (`thresholds.token_weighted_percentiles`)."""
    read_manifest(root, version)  # exists
    _write_json(root / str(version) / "thresholds.json", {"version": version, "created_at": _now(),
                                                          "scored_docs": scored_docs, "percentiles": percentiles})


def load_thresholds(root: Path, version: int) -> dict[str, list[float]]:
    path = root / str(version) / "thresholds.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: version {version} has no thresholds yet")
    return json.loads(path.read_text(encoding="utf-8"))["percentiles"]


# ---------------------------------------------------------------------------------------------- activation


def activation_log(root: Path) -> list[dict]:
    path = root / ACTIVATIONS
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _append_activation(root: Path, entry: dict) -> None:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ACTIVATIONS, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, sort_keys=True) + "\n")


def active_version(root: Path) -> int | None:
    active = [e["version"] for e in activation_log(root) if e["activated"]]
    return active[-1] if active else None


def activate(root: Path, version: int, reason: str) -> None:
    """Make a kept version the active one (e.g. a rollback)."""
    read_manifest(root, version)  # exists
    _append_activation(root, {"version": version, "activated": True, "reason": reason, "at": _now()})


@dataclass(frozen=True)
class ActivationDecision:
    version: int
    activated: bool
    reason: str
    auc_new: float | None
    auc_active: float | None
    active_version: int | None


def decide_and_record_activation(root: Path, version: int, trained: TrainedQualityModel,
                                 tolerance: float = 0.0) -> ActivationDecision:
    """Apply the activation rule to a saved version and record the decision."""
    current = active_version(root)
    auc_new = trained.metrics.get("auc")
    auc_active = None
    if current is None:
        activated, reason = True, "first quality model version"
    elif auc_new is None:
        activated, reason = False, f"no held-out AUC (held-out labels lack a class); version {current} stays active"
    else:
        heldout = trained.heldout
        active_scores = load_scorer(root, current).score(heldout["text"].to_list(), heldout["lang"].to_list())
        auc_active = roc_auc(heldout["label"].to_numpy(), active_scores.quality_score)
        if auc_active is None or auc_new >= auc_active - tolerance:
            activated = True
            reason = (f"held-out AUC {auc_new:.4f} >= active version {current}'s {auc_active:.4f} "
                      f"on the same {heldout.height} held-out labels")
        else:
            activated = False
            reason = (f"held-out AUC {auc_new:.4f} < active version {current}'s {auc_active:.4f} "
                      f"on the same {heldout.height} held-out labels; version {current} stays active")
    _append_activation(root, {"version": version, "activated": activated, "reason": reason, "at": _now(),
                              "auc_new": auc_new, "auc_active": auc_active, "compared_with": current})
    return ActivationDecision(version, activated, reason, auc_new, auc_active, current)


# ---------------------------------------------------------------------------------------------- records

QUALITY_MODELS_SCHEMA = {
    "version": pl.Int64, "created_at": pl.String, "label_source": pl.String, "label_counts": pl.String,
    "parameters": pl.String, "file_hash": pl.String, "heldout_auc": pl.Float64, "heldout_auc_ci_low": pl.Float64,
    "heldout_auc_ci_high": pl.Float64, "ece": pl.Float64, "spearman": pl.Float64, "host_baseline_auc": pl.Float64,
    "host_grouped_auc": pl.Float64, "auc_by_lang": pl.String, "metrics": pl.String, "active": pl.Boolean,
    "activation_reason": pl.String,
}


def model_records(root: Path) -> pl.DataFrame:
    """One row per version for the Delta table `quality_models` (nested values as JSON strings)."""
    log = activation_log(root)
    current = active_version(root)
    rows = []
    for version in list_versions(root):
        try:
            manifest = read_manifest(root, version)
        except FileNotFoundError:  # a version being written right now
            continue
        metrics = json.loads((root / str(version) / "metrics.json").read_text(encoding="utf-8"))
        reasons = [e["reason"] for e in log if e["version"] == version]
        interval = metrics.get("auc_ci95") or [None, None]
        rows.append({
            "version": version, "created_at": manifest["created_at"], "label_source": manifest["label_source"],
            "label_counts": json.dumps(manifest["label_counts"], sort_keys=True),
            "parameters": json.dumps(manifest["parameters"], sort_keys=True), "file_hash": manifest["file_hash"],
            "heldout_auc": metrics.get("auc"), "heldout_auc_ci_low": interval[0], "heldout_auc_ci_high": interval[1],
            "ece": metrics.get("ece"), "spearman": metrics.get("spearman"),
            "host_baseline_auc": metrics.get("host_baseline_auc"),
            "host_grouped_auc": (metrics.get("host_grouped") or {}).get("auc"),
            "auc_by_lang": json.dumps(metrics.get("auc_by_lang"), sort_keys=True),
            "metrics": json.dumps(metrics, sort_keys=True, default=str),
            "active": version == current, "activation_reason": reasons[-1] if reasons else None,
        })
    return pl.DataFrame(rows, schema=QUALITY_MODELS_SCHEMA)
