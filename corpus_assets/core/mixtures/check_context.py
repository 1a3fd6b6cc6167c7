"""What the `mixtures` expectation suite needs to know about a build, taken from its manifest.

GX compares the rows of a mixture partition with the manifest of the build that wrote them: the
per-source targets as a table (`manifest_sources`, joined in the suite's derived frame), the stages and
sources and the spec hash as suite parameters, and the corpus version the build read (every doc_id must
be a document of that version).
"""
from __future__ import annotations

import logging
from typing import Any

from corpus_assets.core.mixtures.errors import MixtureBuildError
from corpus_assets.core.mixtures.manifest import source_table
from corpus_assets.core.mixtures.store import stored_build

log = logging.getLogger(__name__)


def manifest_context(manifest: dict[str, Any]) -> dict[str, Any]:
    """The validation context of a build (see `corpus_assets.core.checks.validate.validate_frame`)."""
    targets = source_table(manifest).select("stage", "source", "synthetic", "target_share", "max_share",
                                           "share_enforced", manifest_tokens="tokens")
    return {
        "manifest": True,
        "tables": {"manifest_sources": targets},
        "parameters": {"manifest_stage_sources": [f"{stage}/{source}" for stage, source in
                                                  targets.select("stage", "source").iter_rows()],
                       "manifest_spec_hash": [manifest["spec_hash"]]},
        "versions": {"corpus": manifest["inputs"]["corpus"]["delta_version"]},
    }


def partition_context(warehouse: str, name: str, storage_options: dict[str, str] | None = None) -> dict[str, Any]:
    """The context of the build the table holds now for `name`. Rows without the manifest of their build
    (a partition rewritten outside a build, a lost manifest file) are checked against an empty manifest, so
    `identity` fails (their spec hash, stages and sources are in no manifest) instead of being skipped."""
    try:
        return manifest_context(stored_build(warehouse, name, storage_options=storage_options).manifest)
    except MixtureBuildError as exc:
        log.warning("mixtures %s: %s", name, exc)
        empty: dict[str, Any] = {"spec_hash": None, "stages": [], "inputs": {"corpus": {"delta_version": None}}}
        return {**manifest_context(empty), "versions": {}}
