"""The partitions of `mixtures`: one per spec file and per generated `-real-only` sibling, registered by
`corpus mix build` / `corpus materialize` and by the `mixture_specs_sensor`."""
import dagster as dg

mixture_partitions = dg.DynamicPartitionsDefinition(name="mixtures")


def register_mixtures(instance: dg.DagsterInstance, names: list[str]) -> list[str]:
    """Add the names that are not yet partitions; return those added."""
    known = set(instance.get_dynamic_partitions(mixture_partitions.name))  # type: ignore[arg-type]
    new = [name for name in names if name not in known]
    if new:
        instance.add_dynamic_partitions(mixture_partitions.name, new)  # type: ignore[arg-type]
    return new
