"""The `mixtures` asset through Dagster (in process) on the corpus of the sample, its GX checks on good and
corrupted partitions, `corpus check --table mixtures`, and the sensor that follows the specs folder."""
import json
import shutil

import dagster as dg
import polars as pl
import pytest
import yaml
from deltalake import DeltaTable
from mixture_fixtures import MIXTURES

from corpus_assets.cli import main
from corpus_assets.core.checks.suites import check_groups
from corpus_assets.core.checks.validate import validate_table
from corpus_assets.core.lake.delta_tables import replace_partition_frame
from corpus_assets.core.mixtures.check_context import partition_context
from corpus_assets.core.mixtures.spec import load_spec, load_specs
from corpus_assets.core.mixtures.store import build_versions, manifest_uri, read_rows, stored_build
from corpus_assets.defs.lake.warehouse import Warehouse
from corpus_assets.defs.mixtures.assets import mixtures
from corpus_assets.defs.mixtures.checks import mixtures_checks
from corpus_assets.defs.mixtures.sensors import mixture_specs_sensor
from corpus_assets.defs.mixtures.specs import MixtureSpecs

GROUPS = {group.name for group in check_groups("mixtures")}


def materialize(warehouse, name, specs_folder=MIXTURES):
    # entered, so Dagster's current definitions-state storage is this instance's (not one an earlier test left)
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("mixtures", [name])
        return dg.materialize([mixtures, mixtures_checks], partition_key=name, instance=instance, resources={
            "warehouse": Warehouse(uri=str(warehouse)), "mixture_specs": MixtureSpecs(folder=str(specs_folder))})


@pytest.fixture(scope="module")
def built(warehouse_with_synthetic, tmp_path_factory):
    """A copy of the warehouse with web-en-zh-v1 (which has a synthetic source) built in process."""
    warehouse = tmp_path_factory.mktemp("mix-assets") / "warehouse"
    shutil.copytree(warehouse_with_synthetic, warehouse)
    result = materialize(warehouse, "web-en-zh-v1")
    assert result.success
    return warehouse, result


def test_a_materialization_writes_the_partition_its_manifest_and_metadata(built):
    warehouse, result = built
    [event] = result.asset_materializations_for_node("mixtures")
    meta = {key: value.value for key, value in event.metadata.items()}
    rows = read_rows(str(warehouse), "web-en-zh-v1")
    spec = load_specs(MIXTURES)["web-en-zh-v1"]
    assert event.partition == "web-en-zh-v1" and meta["dagster/row_count"] == rows.height > 0
    assert meta["spec_hash"] == spec.spec_hash == rows["spec_hash"].unique().item()
    # every table the build read: the corpus, and the quality models whose scores it holds
    assert meta["input_versions"] == {name: DeltaTable(str(warehouse / name)).version()
                                      for name in ("corpus", "quality_models")}
    assert meta["delta_version"] == build_versions(str(warehouse), "web-en-zh-v1")[-1]
    assert meta["manifest_path"] == manifest_uri(str(warehouse), "web-en-zh-v1", meta["delta_version"])
    on_disk = json.loads(open(meta["manifest_path"]).read())
    assert on_disk == meta["manifest"] and on_disk["totals"]["tokens"] == meta["tokens"] == rows["n_tokens"].sum()
    assert on_disk["shortfalls"] == []  # the synthetic Q&A is in this corpus
    for source in ("web_en", "web_zh", "synth_qa"):
        assert f"| main | {source} |" in meta["shares"]
    synthetic = rows.filter(pl.col("synthetic"))
    assert set(synthetic["source"]) == {"synth_qa"} and 0 < synthetic["n_tokens"].sum() <= 0.05 * rows["n_tokens"].sum()
    evaluations = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert evaluations == {name: True for name in GROUPS}


def test_a_rebuild_replaces_only_its_partition_and_the_earlier_build_stays_readable(built, tmp_path):
    warehouse = tmp_path / "wh"
    shutil.copytree(built[0], warehouse)
    before = stored_build(str(warehouse), "web-en-zh-v1")
    assert materialize(warehouse, "web-curriculum-v1").success
    specs = tmp_path / "specs"
    shutil.copytree(MIXTURES, specs)
    data = yaml.safe_load((specs / "web-en-zh-v1.yaml").read_text())
    (specs / "web-en-zh-v1.yaml").write_text(yaml.safe_dump({**data, "token_budget": 60000}))
    assert materialize(warehouse, "web-en-zh-v1", specs).success
    after = stored_build(str(warehouse), "web-en-zh-v1")
    assert build_versions(str(warehouse), "web-en-zh-v1")[-2:] == [before.version, after.version]
    assert after.manifest["spec_hash"] != before.manifest["spec_hash"] and after.rows.height > before.rows.height
    earlier = stored_build(str(warehouse), "web-en-zh-v1", version=after.version - 1)
    assert earlier.version == before.version and earlier.rows.equals(before.rows)
    assert earlier.manifest == before.manifest
    assert read_rows(str(warehouse), "web-curriculum-v1").height > 0  # the other partition is untouched


def corrupt(rows: pl.DataFrame, how: str) -> pl.DataFrame:
    first = pl.int_range(pl.len()) == 0
    if how == "negative copy":
        return rows.with_columns(copy=pl.when(first).then(-1).otherwise(pl.col("copy")).cast(pl.Int32))
    if how == "unknown doc_id":
        return rows.with_columns(doc_id=pl.when(first).then(pl.lit("f" * 32)).otherwise(pl.col("doc_id")))
    if how == "synthetic repeated":
        extra = rows.filter(pl.col("synthetic")).with_columns(copy=pl.col("copy") + 1)
        return pl.concat([rows, extra, extra.with_columns(copy=pl.col("copy") + 1)])
    if how == "real row flagged synthetic":
        first_real = rows["synthetic"].arg_min()
        return rows.with_columns(synthetic=(pl.int_range(pl.len()) == first_real) | pl.col("synthetic"))
    if how == "unchanged":
        return rows
    raise ValueError(how)


def rewrite(warehouse, how: str, with_manifest: bool = True) -> None:
    """Replace the partition web-en-zh-v1 with corrupted rows: as a build whose rows disagree with its
    manifest (the build's manifest copied to the new version), or as a write outside any build."""
    build = stored_build(str(warehouse), "web-en-zh-v1")
    replace_partition_frame(str(warehouse / "mixtures"), corrupt(build.rows, how), {"mixture": "web-en-zh-v1"})
    if with_manifest:
        version = build_versions(str(warehouse), "web-en-zh-v1")[-1]
        shutil.copy(build.manifest_uri, manifest_uri(str(warehouse), "web-en-zh-v1", version))


@pytest.mark.parametrize(("how", "with_manifest", "failing"), [
    ("negative copy", True, {"occurrences"}),
    ("unknown doc_id", True, {"membership"}),
    ("synthetic repeated", True, {"shares", "synthetic_caps"}),
    ("real row flagged synthetic", True, {"synthetic_caps"}),
    ("unchanged", False, {"identity"}),  # rows no build wrote: their spec hash and sources are in no manifest
])
def test_a_corrupted_mixture_fails_the_right_check_group(built, tmp_path, how, with_manifest, failing):
    warehouse = tmp_path / "wh"
    shutil.copytree(built[0], warehouse, ignore=shutil.ignore_patterns("_dagster"))
    rewrite(warehouse, how, with_manifest)
    result = validate_table(str(warehouse), "mixtures", {"mixture": "web-en-zh-v1"},
                            context=partition_context(str(warehouse), "web-en-zh-v1"))
    assert {name for name in GROUPS if not result.of_check(name).success} == failing
    assert not any(outcome.skipped for outcome in result.outcomes)  # every expectation ran


def test_corpus_check_includes_mixtures(built, tmp_path, capsys):
    warehouse = tmp_path / "wh"
    shutil.copytree(built[0], warehouse, ignore=shutil.ignore_patterns("_dagster"))
    assert main(["check", "--warehouse", str(warehouse), "--table", "mixtures"]) == 0
    assert "mixtures        web-en-zh-v1" in capsys.readouterr().out
    rewrite(warehouse, "synthetic repeated")
    assert main(["check", "--warehouse", str(warehouse), "--table", "mixtures"]) == 1
    out = capsys.readouterr().out
    assert "expect_column_values_to_be_between(cap_headroom)" in out and "main/synth_qa" in out


def sensor_result(instance, folder):
    context = dg.build_sensor_context(instance=instance, resources={"mixture_specs": MixtureSpecs(folder=str(folder))})
    return mixture_specs_sensor(context)


def test_the_sensor_registers_new_spec_files_and_requests_their_builds(tmp_path):
    with dg.DagsterInstance.ephemeral() as instance:
        check_the_sensor(instance, tmp_path)


def check_the_sensor(instance, tmp_path):
    folder = tmp_path / "specs"
    shutil.copytree(MIXTURES, folder)
    first = sensor_result(instance, folder)
    [added] = first.dynamic_partitions_requests
    assert added.partitions_def_name == "mixtures"
    assert added.partition_keys == ["web-curriculum-v1", "web-en-zh-v1", "web-en-zh-v1-real-only"]
    specs = load_specs(folder)
    assert {r.run_key for r in first.run_requests} == {f"{name}@{spec.spec_hash}" for name, spec in specs.items()}
    instance.add_dynamic_partitions("mixtures", added.partition_keys)
    for name, spec in specs.items():  # as if built: a materialization with its spec hash
        instance.report_runless_asset_event(dg.AssetMaterialization("mixtures", partition=name,
                                                                    metadata={"spec_hash": spec.spec_hash}))
    assert sensor_result(instance, folder).skip_reason is not None  # nothing new, nothing changed

    data = yaml.safe_load((folder / "web-curriculum-v1.yaml").read_text())
    (folder / "web-curriculum-v2.yaml").write_text(yaml.safe_dump({**data, "name": "web-curriculum-v2", "seed": 8}))
    (folder / "web-curriculum-v1.yaml").write_text("name: web-curriculum-v1\nseed: [")  # broken: kept, logged
    (folder / "web-en-zh-v1.yaml").unlink()  # removed: its partition and its sibling's go
    second = sensor_result(instance, folder)
    changes = {type(r).__name__: r.partition_keys for r in second.dynamic_partitions_requests}
    assert changes == {"AddDynamicPartitionsRequest": ["web-curriculum-v2"],
                       "DeleteDynamicPartitionsRequest": ["web-en-zh-v1", "web-en-zh-v1-real-only"]}
    [request] = second.run_requests  # the built ones are unchanged; the broken one cannot be built
    new_hash = load_spec(folder / "web-curriculum-v2.yaml").spec_hash
    assert (request.partition_key, request.run_key) == ("web-curriculum-v2", f"web-curriculum-v2@{new_hash}")
