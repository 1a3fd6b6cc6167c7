"""The specs folder drives the `mixtures` partitions: a sensor registers new spec files (and their
`-real-only` siblings), removes the partitions of deleted ones, and requests a build of every mixture
whose spec is new or changed since its last build."""
import dagster as dg

from corpus_assets.core.mixtures.catalog import SpecCatalog
from corpus_assets.defs.mixtures.partitions import mixture_partitions
from corpus_assets.defs.mixtures.specs import MixtureSpecs
from corpus_assets.defs.phases import MIX, phase_selection

MIXTURES = dg.AssetKey("mixtures")


def partition_changes(catalog: SpecCatalog, registered: set[str]) -> tuple[list[str], list[str]]:
    """(names to add, names to remove). A name whose file is broken right now is kept: fixing a typo must
    not drop a mixture's partition and its history in the UI."""
    added = [name for name in catalog.specs if name not in registered]
    removed = sorted(name for name in registered - set(catalog.specs) if not catalog.is_broken(name))
    return added, removed


def built_spec_hash(instance: dg.DagsterInstance, name: str) -> str | None:
    """The spec hash of the latest materialization of the mixture `name` (None: never built)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=MIXTURES, asset_partitions=[name]), limit=1).records
    value = records[0].asset_materialization.metadata.get("spec_hash") if records else None  # type: ignore[union-attr]
    return None if value is None else str(value.value)


@dg.sensor(target=phase_selection(MIX), minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def mixture_specs_sensor(context: dg.SensorEvaluationContext, mixture_specs: MixtureSpecs):
    """Keeps the `mixtures` partitions in step with the spec files and builds new or edited specs (one
    run per spec version: the run key is `<name>@<spec hash>`). A malformed file is logged, one line."""
    catalog = mixture_specs.scan()
    for error in catalog.errors.values():
        context.log.error(error)
    added, removed = partition_changes(catalog, set(context.instance.get_dynamic_partitions(mixture_partitions.name)))  # type: ignore[arg-type]
    requests = [dg.RunRequest(run_key=f"{name}@{spec.spec_hash}", partition_key=name)
                for name, spec in catalog.specs.items()
                if built_spec_hash(context.instance, name) != spec.spec_hash]
    changes = ([mixture_partitions.build_add_request(added)] if added else []) + (
        [mixture_partitions.build_delete_request(removed)] if removed else [])
    if not requests and not changes:
        return dg.SensorResult(skip_reason=f"{len(catalog.specs)} mixture specs, all built as they are")
    if added or removed:
        context.log.info(f"mixture partitions: added {added or 'none'}, removed {removed or 'none'}")
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=changes)
