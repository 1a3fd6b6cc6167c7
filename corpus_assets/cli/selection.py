"""Which assets `corpus materialize` runs, read from the definitions (phase tags and the asset graph),
not from hand-kept lists."""
from __future__ import annotations

from dataclasses import dataclass

from corpus_assets.cli.common import CliError


@dataclass(frozen=True)
class Plan:
    """The selected asset names of each phase, in dependency order (multi-asset siblings included)."""

    ingest: list[str]
    model: list[str]
    score: list[str]
    dedup: list[str]
    publish: list[str]
    report: list[str]
    mix: list[str]

    @property
    def per_shard(self) -> list[str]:
        return self.ingest + self.score + self.publish


def phase_assets() -> dict[str, list[str]]:
    """{phase: asset names in topological order} for every asset of the code location."""
    from corpus_assets.definitions import defs
    from corpus_assets.defs.phases import PHASE_TAG, PHASES

    graph = defs.resolve_asset_graph()
    phases: dict[str, list[str]] = {name: [] for name in PHASES}
    for key in graph.toposorted_asset_keys:
        tag = graph.get(key).to_asset_spec().tags.get(PHASE_TAG)
        if tag in phases:
            phases[tag].append(key.to_user_string())
    return phases


def _siblings(name: str) -> set[str]:
    """Assets computed by the same step as `name` (a multi-asset is run whole)."""
    import dagster as dg

    from corpus_assets.definitions import defs

    node = defs.resolve_asset_graph().get(dg.AssetKey(name))
    return {key.to_user_string() for key in node.execution_set_asset_keys}


def plan_selection(select: str | None) -> Plan:
    """The plan for `--select a,b,...` (default: every asset)."""
    from corpus_assets.defs.phases import PHASES

    phases = phase_assets()
    every = [name for names in phases.values() for name in names]
    wanted = set(every)
    if select:
        names = [name.strip() for name in select.split(",") if name.strip()]
        unknown = [name for name in names if name not in every]
        if unknown:
            raise CliError(f"unknown asset(s) {', '.join(unknown)}; choose from {', '.join(every)}")
        wanted = set().union(*(_siblings(name) for name in names))
    return Plan(*[[name for name in phases[phase] if name in wanted] for phase in PHASES])
