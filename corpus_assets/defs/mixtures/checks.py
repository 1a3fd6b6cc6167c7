from corpus_assets.core.mixtures.check_context import partition_context
from corpus_assets.defs.expectation_checks import CheckContext, expectation_checks
from corpus_assets.defs.lake.warehouse import Warehouse
from corpus_assets.defs.mixtures.partitions import mixture_partitions


def mixture_partition(context: CheckContext) -> dict[str, str]:
    return {"mixture": context.partition_key}


def build_manifest_context(context: CheckContext, warehouse: Warehouse) -> dict:
    """The rows are checked against the manifest of the build that wrote them (targets, caps, corpus version)."""
    return partition_context(warehouse.root(), context.partition_key, warehouse.options())


mixtures_checks = expectation_checks("mixtures", partitions_def=mixture_partitions,
                                     delta_partition_of=mixture_partition, validation_context=build_manifest_context)
