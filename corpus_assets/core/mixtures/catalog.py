"""The specs folder: which mixtures exist (spec files and their `-real-only` siblings), one spec by name.

A malformed file must not hide the other mixtures (a sensor keeps registering them, a build of another
mixture still runs), so scanning collects one error line per broken file instead of raising, and a
single mixture is loaded from its own file only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from corpus_assets.core.mixtures.errors import MixtureSpecError
from corpus_assets.core.mixtures.spec import REAL_ONLY_SUFFIX, MixtureSpec, load_spec, load_specs, real_only


@dataclass
class SpecCatalog:
    folder: Path
    specs: dict[str, MixtureSpec] = field(default_factory=dict)  # name -> spec, siblings included, in file order
    errors: dict[str, str] = field(default_factory=dict)  # file stem -> the one-line error

    def is_broken(self, name: str) -> bool:
        """Whether `name` comes (or may come) from a file that does not load now."""
        return name in self.errors or name.removesuffix(REAL_ONLY_SUFFIX) in self.errors


def scan_specs(folder: str | Path) -> SpecCatalog:
    """Every spec of `folder` that loads, with its real-only sibling, and an error per file that does not."""
    catalog = SpecCatalog(Path(folder))
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            spec = load_spec(path)
            items = (spec, real_only(spec)) if spec.has_synthetic else (spec,)
        except MixtureSpecError as exc:
            catalog.errors[path.stem] = str(exc)
            continue
        clash = next((item.name for item in items if item.name in catalog.specs), None)
        if clash:
            catalog.errors[path.stem] = str(MixtureSpecError(str(path), "name", f"{clash!r} is defined twice in {folder}"))
            continue
        catalog.specs.update((item.name, item) for item in items)
    return catalog


def load_all(folder: str | Path) -> dict[str, MixtureSpec]:
    """Every spec of `folder`; the first malformed file raises its one-line error."""
    if not Path(folder).is_dir():
        raise MixtureSpecError(str(folder), "(folder)", "no such folder of mixture specs")
    return load_specs(folder)


def spec_named(folder: str | Path, name: str) -> MixtureSpec:
    """The spec called `name`: `<name>.yaml`, or the sibling of `<parent>.yaml` for `<parent>-real-only`."""
    folder = Path(folder)
    own = folder / f"{name}.yaml"
    if own.is_file():
        return load_spec(own)
    parent = folder / f"{name.removesuffix(REAL_ONLY_SUFFIX)}.yaml"
    if name.endswith(REAL_ONLY_SUFFIX) and parent.is_file():
        spec = load_spec(parent)
        if spec.has_synthetic:
            return real_only(spec)
        raise MixtureSpecError(str(parent), "sources", f"has no synthetic source, so there is no {name!r}")
    known = ", ".join(sorted(path.stem for path in folder.glob("*.yaml"))) or "none"
    raise MixtureSpecError(str(own), "(file)", f"no such mixture spec (specs in {folder}: {known})")
