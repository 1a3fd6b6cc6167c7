"""Mixtures in a warehouse: the `mixtures` Delta table (partitioned by mixture) and a manifest per build.

A build replaces its mixture's partition in one predicate overwrite (`mixture = '<name>'`), so the Delta
log says which table versions are builds of which mixture; its manifest is written beside the table as
`{warehouse}/_mixtures/{name}/manifest-v{version}.json`, named by the version of that commit. The
partition as of any table version is therefore the build with the highest version at or below it, and
its manifest is found by that number: an earlier build stays readable (rows and manifest) through Delta
time travel until the table is vacuumed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow.dataset as ds
import pyarrow.fs as pafs
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

from corpus_assets.core.lake.delta_tables import commit_history, replace_partition_frame, table_exists
from corpus_assets.core.mixtures.build import MixtureBuild, build_mixture
from corpus_assets.core.mixtures.errors import MixtureBuildError
from corpus_assets.core.mixtures.inputs import open_corpus
from corpus_assets.core.mixtures.manifest import manifest_bytes
from corpus_assets.core.mixtures.select import ROW_SCHEMA
from corpus_assets.core.mixtures.spec import MixtureSpec, parse_spec
from corpus_assets.core.mixtures.tokens import APPROX_RULE_ID

TABLE = "mixtures"
TOKEN_CACHE_TABLE = "mixture_token_counts"
MANIFEST_FOLDER = "_mixtures"
PARTITION_COLUMN = "mixture"


@dataclass
class StoredBuild:
    """One build of a mixture as the warehouse holds it."""

    name: str
    version: int  # the `mixtures` table version its commit made
    rows: pl.DataFrame  # ROW_SCHEMA
    manifest: dict[str, Any]
    manifest_uri: str


def mixtures_uri(warehouse: str) -> str:
    return f"{warehouse}/{TABLE}"


def manifest_uri(warehouse: str, name: str, version: int) -> str:
    return f"{warehouse}/{MANIFEST_FOLDER}/{name}/manifest-v{version}.json"


def build_into_warehouse(warehouse: str, spec: MixtureSpec, *, storage_options: dict[str, str] | None = None,
                         memory_limit: str | None = None) -> tuple[MixtureBuild, StoredBuild]:
    """Build `spec` from the warehouse's latest `corpus` (and `quality_ratings` when the spec needs
    ratings), replace its partition of `mixtures` and write the manifest beside the table."""
    corpus_uri = f"{warehouse}/corpus"
    if not table_exists(corpus_uri, storage_options):
        raise MixtureBuildError(f"no corpus table at {corpus_uri}: materialize corpus before mixtures")
    ratings, other_inputs = _quality_inputs(warehouse, spec, storage_options)
    snapshot = open_corpus(corpus_uri, storage_options=storage_options, memory_limit=memory_limit)
    # The quality thresholds in force are recorded once quality_models carries them (issue 14); until then the
    # manifest lists the model versions found among the selected rows (build.py) and the table's version.
    build = build_mixture(spec, snapshot, ratings=ratings, token_cache_uri=f"{warehouse}/{TOKEN_CACHE_TABLE}",
                          other_inputs=other_inputs, storage_options=storage_options)
    return build, write_build(warehouse, build, storage_options)


def _quality_inputs(warehouse: str, spec: MixtureSpec, storage_options: dict[str, str] | None
                    ) -> tuple[pl.DataFrame | None, dict[str, dict[str, Any]]]:
    """Ratings when a source requires a spot-check rating, and the versions of the quality tables read."""
    other: dict[str, dict[str, Any]] = {}
    ratings = None
    needs_ratings = any(source.min_spot_check_rating is not None for stage in spec.plan() for source in stage.sources)
    ratings_uri = f"{warehouse}/quality_ratings"
    if needs_ratings and table_exists(ratings_uri, storage_options):
        table = DeltaTable(ratings_uri, storage_options=storage_options or None)
        ratings = pl.from_arrow(table.to_pyarrow_dataset().to_table(columns=["doc_id", "rating"]))
        other["quality_ratings"] = {"delta_version": table.version()}
    models_uri = f"{warehouse}/quality_models"
    if table_exists(models_uri, storage_options):
        other["quality_models"] = {"delta_version": DeltaTable(models_uri, storage_options=storage_options or None).version()}
    return ratings, other  # type: ignore[return-value]


def write_build(warehouse: str, build: MixtureBuild, storage_options: dict[str, str] | None = None) -> StoredBuild:
    """Replace the build's partition (one commit) and write its manifest under that commit's version."""
    name = build.spec.name
    _create_table(warehouse, build.rows, storage_options)
    replace_partition_frame(mixtures_uri(warehouse), build.rows, {PARTITION_COLUMN: name}, storage_options)
    version = build_versions(warehouse, name, storage_options)[-1]
    uri = manifest_uri(warehouse, name, version)
    _write_bytes(uri, manifest_bytes(build.manifest))
    return StoredBuild(name, version, build.rows, build.manifest, uri)


def _create_table(warehouse: str, rows: pl.DataFrame, storage_options: dict[str, str] | None) -> None:
    """Create the empty `mixtures` table (version 0) before a build writes into it. Builds of different
    mixtures run at once; two of them racing to *create* the table by writing could leave one build's
    commit found as the other's (`build_versions`), and that build's manifest missing. Creating is
    idempotent: the loser of a race to create finds the table there."""
    uri = mixtures_uri(warehouse)
    if table_exists(uri, storage_options):
        return
    try:
        DeltaTable.create(uri, rows.to_arrow().schema, mode="ignore", partition_by=[PARTITION_COLUMN],
                          storage_options=storage_options or None)
    except DeltaError:
        if not table_exists(uri, storage_options):
            raise


def build_versions(warehouse: str, name: str, storage_options: dict[str, str] | None = None) -> list[int]:
    """The `mixtures` table versions whose commit (re)wrote the partition `name`, oldest first."""
    if not table_exists(mixtures_uri(warehouse), storage_options):
        return []
    predicate = f"{PARTITION_COLUMN} = '{name}'"
    return sorted(entry["version"] for entry in commit_history(mixtures_uri(warehouse), storage_options)
                  if (entry.get("operationParameters") or {}).get("predicate") == predicate)


def table_version(warehouse: str, storage_options: dict[str, str] | None = None) -> int | None:
    uri = mixtures_uri(warehouse)
    return DeltaTable(uri, storage_options=storage_options or None).version() if table_exists(uri, storage_options) else None


def build_at(warehouse: str, name: str, version: int | None = None,
             storage_options: dict[str, str] | None = None) -> int:
    """The version of the build of `name` that the table holds as of `version` (default: the latest)."""
    builds = build_versions(warehouse, name, storage_options)
    latest = table_version(warehouse, storage_options)
    if version is not None and (latest is None or not 0 <= version <= latest):
        raise MixtureBuildError(f"{mixtures_uri(warehouse)} has no version {version} "
                                f"({'no table yet' if latest is None else f'versions 0 to {latest}'})")
    held = [v for v in builds if version is None or v <= version]
    if not held:
        when = "" if version is None else f" as of version {version}"
        raise MixtureBuildError(f"mixture {name} has not been built{when} (build it with `corpus mix build {name}`)")
    return held[-1]


def stored_build(warehouse: str, name: str, version: int | None = None,
                 storage_options: dict[str, str] | None = None) -> StoredBuild:
    """The rows and manifest of `name` as the table holds them at `version` (default: the latest)."""
    build_version = build_at(warehouse, name, version, storage_options)
    rows = read_rows(warehouse, name, build_version, storage_options)
    uri = manifest_uri(warehouse, name, build_version)
    try:
        manifest = read_manifest_uri(uri)
    except FileNotFoundError:
        raise MixtureBuildError(f"mixture {name}: the manifest of build version {build_version} is missing ({uri})") from None
    return StoredBuild(name, build_version, rows, manifest, uri)


def latest_manifest(warehouse: str, name: str, storage_options: dict[str, str] | None = None
                    ) -> tuple[int, dict[str, Any]] | None:
    """(version, manifest) of the latest build of `name`; None when it has not been built."""
    builds = build_versions(warehouse, name, storage_options)
    if not builds:
        return None
    try:
        return builds[-1], read_manifest_uri(manifest_uri(warehouse, name, builds[-1]))
    except FileNotFoundError:
        raise MixtureBuildError(f"mixture {name}: the manifest of build version {builds[-1]} is missing "
                                f"({manifest_uri(warehouse, name, builds[-1])})") from None


def build_status(warehouse: str, spec: MixtureSpec, storage_options: dict[str, str] | None = None) -> dict[str, Any]:
    """Whether `spec`'s mixture is built as it stands: `status` is `not built`, `spec changed`,
    `corpus changed` (built on an older corpus version) or `up to date`."""
    latest = latest_manifest(warehouse, spec.name, storage_options)
    corpus_uri = f"{warehouse}/corpus"
    corpus_version = (DeltaTable(corpus_uri, storage_options=storage_options or None).version()
                      if table_exists(corpus_uri, storage_options) else None)
    status: dict[str, Any] = {"mixture": spec.name, "spec_hash": spec.spec_hash, "built_version": None,
              "corpus_version": None, "rows": None, "tokens": None, "status": "not built"}
    if latest is None:
        return status
    version, manifest = latest
    built_on = manifest["inputs"]["corpus"]["delta_version"]
    status.update(built_version=version, corpus_version=built_on,
                  rows=manifest["totals"]["rows"], tokens=manifest["totals"]["tokens"])
    if manifest["spec_hash"] != spec.spec_hash:
        status["status"] = "spec changed"
    elif corpus_version is not None and built_on != corpus_version:
        status["status"] = f"corpus changed (v{built_on} -> v{corpus_version})"
    else:
        status["status"] = "up to date"
    return status


def spec_of_build(manifest: dict[str, Any], current: MixtureSpec | None = None) -> MixtureSpec:
    """The spec a build was made from, as its manifest records it (normalised): `current` when it is
    unchanged, else rebuilt from the manifest (a tokenizer.json is taken from `current` when it is the same
    file content). Exports and spot checks of an earlier build use this, not the edited spec."""
    if current is not None and current.spec_hash == manifest["spec_hash"]:
        return current
    recorded = manifest["spec"]
    name = recorded["name"]
    tokenizer_path = None
    if recorded["tokenizer"] != APPROX_RULE_ID:
        if current is None or current.tokenizer_id != recorded["tokenizer"]:
            raise MixtureBuildError(f"mixture {name}: the build used the tokenizer {recorded['tokenizer']}, which the "
                                    "spec no longer names; restore that tokenizer.json in the spec to use this build")
        tokenizer_path = current.tokenizer_path
    data = {key: recorded[key] for key in ("name", "seed", "allow_shortfall", "derived_from", "stages")
            if recorded.get(key) is not None}
    spec = parse_spec(data, origin=f"{name} (spec {manifest['spec_hash']} as built)")
    spec._tokenizer_path = tokenizer_path
    if spec.spec_hash != manifest["spec_hash"]:
        raise MixtureBuildError(f"mixture {name}: its manifest's spec does not hash to {manifest['spec_hash']} "
                                f"(got {spec.spec_hash}); was it written by another version of corpus_assets?")
    return spec


def read_rows(warehouse: str, name: str, version: int | None = None,
              storage_options: dict[str, str] | None = None) -> pl.DataFrame:
    """The rows of partition `name` at table `version` (default: the latest); empty when it has none."""
    table = DeltaTable(mixtures_uri(warehouse), version=version, storage_options=storage_options or None)
    dataset = table.to_pyarrow_dataset(file_pruning_predicate=[(PARTITION_COLUMN, "=", name)])
    frame = pl.from_arrow(dataset.to_table(filter=ds.field(PARTITION_COLUMN) == name))
    return frame.select(list(ROW_SCHEMA)).cast(ROW_SCHEMA) if frame.height else pl.DataFrame(schema=ROW_SCHEMA)  # type: ignore[union-attr,arg-type]


def read_manifest_uri(uri: str) -> dict[str, Any]:
    filesystem, path = pafs.FileSystem.from_uri(uri)
    if filesystem.get_file_info(path).type == pafs.FileType.NotFound:
        raise FileNotFoundError(uri)
    with filesystem.open_input_stream(path) as stream:
        return json.loads(stream.read().decode("utf-8"))


def _write_bytes(uri: str, data: bytes) -> None:
    # pyarrow's filesystems take a local path or an object-store URI (credentials from the environment)
    filesystem, path = pafs.FileSystem.from_uri(uri)
    filesystem.create_dir(path.rsplit("/", 1)[0], recursive=True)
    with filesystem.open_output_stream(path) as stream:
        stream.write(data)
