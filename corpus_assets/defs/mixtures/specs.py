"""The `mixture_specs` resource: the folder of mixture specs (YAML) that the `mixtures` partitions follow."""
from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from corpus_assets.core.mixtures.catalog import SpecCatalog, scan_specs, spec_named
from corpus_assets.core.mixtures.spec import MixtureSpec


class MixtureSpecs(dg.ConfigurableResource):
    """Mixture specs: one `<name>.yaml` per mixture (plus the generated `<name>-real-only` siblings)."""

    folder: str = Field(description="The specs folder (from $CORPUS_MIXTURES; `corpus` sets it, by default to the "
                                    "example specs packaged with corpus_assets)")

    def path(self) -> Path:
        return Path(self.folder).expanduser().resolve()

    def scan(self) -> SpecCatalog:
        return scan_specs(self.path())

    def spec(self, name: str) -> MixtureSpec:
        return spec_named(self.path(), name)


defs = dg.Definitions(resources={"mixture_specs": MixtureSpecs(folder=dg.EnvVar("CORPUS_MIXTURES"))})
