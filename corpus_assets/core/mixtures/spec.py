"""Mixture specs (YAML files in `mixtures/`): loading, validation, normalisation, hashing, real-only siblings.

Shape (issue 15)::

    name: web-en-zh-v1          # must equal the file name without .yaml (partitions follow the files)
    seed: 42
    token_budget: 2000000       # required without stages; with stages, optional and = the sum of theirs
    tokenizer: approx           # or a path to a Hugging Face tokenizer.json, relative to the spec file
    allow_shortfall: false      # true: a source short of its tokens after max_epochs is recorded, not fatal
    sources:
      - {name: web_en, where: "lang = 'en'", weight: 0.6, max_epochs: 2}
      - {name: synth_qa, where: "source = 'synthetic-qa'", weight: 0.05, synthetic: true, max_share: 0.05,
         min_spot_check_rating: 3}
    stages:                     # optional curriculum, in training order; replaces the top-level sources
      - {name: base, token_budget: 1500000, sources: [web_en, {name: synth_qa, weight: 0.02}]}

A stage's source may name a top-level source (a string) or give a mapping: a mapping whose name is a
top-level source inherits that source's fields and overrides the ones it gives. Without stages, the
top-level sources form one stage called `main`. Weights are normalised within each stage.

Every problem is reported as one line, `FILE: FIELD: PROBLEM`, e.g.
`mixtures/web-en-zh-v1.yaml: sources[2].max_share: required for a synthetic source`.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, ValidationError, field_validator

from corpus_assets.core.mixtures.errors import MixtureSpecError
from corpus_assets.core.mixtures.predicate import PredicateError, validate_where
from corpus_assets.core.mixtures.tokens import APPROX, APPROX_RULE_ID

DEFAULT_STAGE = "main"
REAL_ONLY_SUFFIX = "-real-only"
# also a Delta partition value and an export folder name, hence the narrow alphabet
Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,99}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class SourceSpec(_Strict):
    """One source of a stage: the corpus rows matching `where`, taking `weight` of the stage's tokens."""

    name: Name
    where: str
    weight: float = Field(gt=0, allow_inf_nan=False)
    max_epochs: int = Field(default=1, ge=1)
    synthetic: bool = False
    max_share: float | None = Field(default=None, gt=0, le=1)
    min_spot_check_rating: float | None = Field(default=None, ge=0, le=5)

    @field_validator("where")
    @classmethod
    def _read_only_predicate(cls, where: str) -> str:
        validate_where(where)
        return where


class StageSpec(_Strict):
    """One curriculum stage: its own token budget and sources."""

    name: Name
    token_budget: int = Field(gt=0)
    sources: list[SourceSpec] = Field(min_length=1)

    def normalised_weights(self) -> dict[str, float]:
        total = sum(source.weight for source in self.sources)
        return {source.name: source.weight / total for source in self.sources}


class MixtureSpec(_Strict):
    name: Name
    seed: int
    token_budget: int | None = Field(default=None, gt=0)
    tokenizer: str = APPROX
    sources: list[SourceSpec] = Field(default_factory=list)
    stages: list[StageSpec] = Field(default_factory=list)
    allow_shortfall: bool = False
    description: str | None = None
    # set on generated siblings (`<name>-real-only`): their document order keys use the parent's name, so a
    # sibling draws each real source's documents in the parent's order
    derived_from: Name | None = None
    _tokenizer_path: Path | None = PrivateAttr(default=None)
    _origin: str = PrivateAttr(default="<spec>")

    @property
    def origin(self) -> str:
        """Where the spec came from (its file), for error messages."""
        return self._origin

    def field_path(self, stage_index: int, source_index: int, field: str) -> str:
        """The spec field of a stage's source, as a reader finds it in the file."""
        prefix = f"stages[{stage_index}]." if self.stages else ""
        return f"{prefix}sources[{source_index}].{field}"

    @property
    def tokenizer_path(self) -> Path | None:
        """The tokenizer.json file, resolved against the spec file's folder; None for `approx`."""
        return self._tokenizer_path

    @property
    def order_name(self) -> str:
        """The mixture name that goes into document order keys."""
        return self.derived_from or self.name

    def plan(self) -> list[StageSpec]:
        """The stages in training order (the top-level sources as one `main` stage when there are none)."""
        if self.stages:
            return list(self.stages)
        return [StageSpec(name=DEFAULT_STAGE, token_budget=self.token_budget or 0, sources=self.sources)]

    @property
    def has_synthetic(self) -> bool:
        return any(source.synthetic for stage in self.plan() for source in stage.sources)

    @property
    def tokenizer_id(self) -> str:
        """`approx-v1`, or `tokenizer.json:sha256:<16 hex>` (the file's content, not its path)."""
        if self._tokenizer_path is None:
            return APPROX_RULE_ID
        return "tokenizer.json:sha256:" + hashlib.sha256(self._tokenizer_path.read_bytes()).hexdigest()[:16]

    def normalised(self) -> dict[str, Any]:
        """What determines the rows: defaults filled, stages resolved, the tokenizer by content."""
        return {
            "name": self.name,
            "derived_from": self.derived_from,
            "seed": self.seed,
            "tokenizer": self.tokenizer_id,
            "allow_shortfall": self.allow_shortfall,
            "stages": [stage.model_dump() for stage in self.plan()],
        }

    @property
    def spec_hash(self) -> str:
        canonical = json.dumps(self.normalised(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def load_spec(path: str | Path) -> MixtureSpec:
    """Load and validate one spec file; its `name` must equal the file name without `.yaml`."""
    path = Path(path)
    origin = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MixtureSpecError(origin, "(file)", exc.strerror or str(exc)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise MixtureSpecError(origin, "(yaml)", f"not valid YAML{where}: {getattr(exc, 'problem', exc)}") from exc
    spec = parse_spec(data, origin, base_dir=path.parent)
    if spec.name != path.stem:
        raise MixtureSpecError(origin, "name", f"must equal the file name {path.stem!r}, got {spec.name!r}")
    return spec


def load_specs(folder: str | Path) -> dict[str, MixtureSpec]:
    """Every `*.yaml` spec of a folder plus the real-only sibling of each spec with a synthetic source."""
    specs: dict[str, MixtureSpec] = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        spec = load_spec(path)
        for item in (spec, real_only(spec)) if spec.has_synthetic else (spec,):
            if item.name in specs:
                raise MixtureSpecError(str(path), "name", f"{item.name!r} is defined twice in {folder}")
            specs[item.name] = item
    return specs


def parse_spec(data: Any, origin: str = "<spec>", base_dir: Path | None = None) -> MixtureSpec:
    """Validate a spec given as a mapping (what `yaml.safe_load` returns)."""
    if not isinstance(data, dict):
        raise MixtureSpecError(origin, "(top level)", f"must be a mapping, got {type(data).__name__}")
    data = _resolve_stage_sources(data, origin)
    try:
        spec = MixtureSpec.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise MixtureSpecError(origin, _field_path(error["loc"]), _problem(error)) from None  # type: ignore[arg-type]
    _check_semantics(spec, origin)
    spec._origin = origin
    if spec.tokenizer != APPROX:
        tokenizer_path = Path(spec.tokenizer) if base_dir is None else Path(base_dir) / spec.tokenizer
        if not tokenizer_path.is_file():
            raise MixtureSpecError(origin, "tokenizer", f"must be 'approx' or a tokenizer.json file; "
                                                        f"{tokenizer_path} does not exist")
        spec._tokenizer_path = tokenizer_path.resolve()
    return spec


def real_only(spec: MixtureSpec) -> MixtureSpec:
    """The sibling `<name>-real-only`: synthetic sources removed, their shares given back to the real
    sources in proportion to their weights; same seed, budgets and document order as the parent."""
    stages = []
    for stage in spec.plan():
        real = [source.model_dump(exclude_none=True) for source in stage.sources if not source.synthetic]
        if not real:
            raise MixtureSpecError(spec.name, f"stages.{stage.name}", "has only synthetic sources; "
                                   "a real-only sibling cannot be made")
        stages.append({"name": stage.name, "token_budget": stage.token_budget, "sources": real})
    data = {"name": spec.name + REAL_ONLY_SUFFIX, "seed": spec.seed, "tokenizer": spec.tokenizer,
            "allow_shortfall": spec.allow_shortfall, "derived_from": spec.order_name,
            "description": f"{spec.name} without its synthetic sources (generated)"}
    if spec.stages:
        data["stages"] = stages
    else:
        data.update(token_budget=spec.token_budget, sources=stages[0]["sources"])
    sibling = parse_spec(data, origin=f"{spec.name}{REAL_ONLY_SUFFIX} (generated)")
    sibling._tokenizer_path = spec.tokenizer_path
    return sibling


def _resolve_stage_sources(data: dict, origin: str) -> dict:
    stages = data.get("stages")
    if not isinstance(stages, list):
        return data
    library = {item.get("name"): item for item in data.get("sources") or [] if isinstance(item, dict)}
    resolved_stages = []
    for i, stage in enumerate(stages):
        if not isinstance(stage, dict) or not isinstance(stage.get("sources"), list):
            resolved_stages.append(stage)
            continue
        sources = []
        for j, item in enumerate(stage["sources"]):
            if isinstance(item, str):
                if item not in library:
                    raise MixtureSpecError(origin, f"stages[{i}].sources[{j}]",
                                           f"{item!r} is not a top-level source (define it there or give it in full)")
                item = library[item]
            elif isinstance(item, dict) and item.get("name") in library:
                item = {**library[item["name"]], **item}
            sources.append(item)
        resolved_stages.append({**stage, "sources": sources})
    return {**data, "stages": resolved_stages}


def _check_semantics(spec: MixtureSpec, origin: str) -> None:
    def fail(field: str, problem: str) -> None:
        raise MixtureSpecError(origin, field, problem)

    if spec.stages:
        names = [stage.name for stage in spec.stages]
        for i, name in enumerate(names):
            if name in names[:i]:
                fail(f"stages[{i}].name", f"duplicate stage name {name!r}")
        total = sum(stage.token_budget for stage in spec.stages)
        if spec.token_budget is not None and spec.token_budget != total:
            fail("token_budget", f"must equal the sum of the stages' budgets ({total}), got {spec.token_budget}")
        _check_sources(spec.sources, "sources", fail, check_shares=False)
        for i, stage in enumerate(spec.stages):
            _check_sources(stage.sources, f"stages[{i}].sources", fail, check_shares=True)
    else:
        if spec.token_budget is None:
            fail("token_budget", "required when the spec has no stages")
        if not spec.sources:
            fail("sources", "required (at least one source) when the spec has no stages")
        _check_sources(spec.sources, "sources", fail, check_shares=True)


def _check_sources(sources: list[SourceSpec], path: str, fail, check_shares: bool) -> None:
    total = sum(source.weight for source in sources)
    for j, source in enumerate(sources):
        if source.name in [other.name for other in sources[:j]]:
            fail(f"{path}[{j}].name", f"duplicate source name {source.name!r}")
        if source.synthetic and source.max_share is None:
            fail(f"{path}[{j}].max_share", "required for a synthetic source (its hard cap on the stage's tokens)")
        if not source.synthetic:
            for field in ("max_share", "min_spot_check_rating"):
                if getattr(source, field) is not None:
                    fail(f"{path}[{j}].{field}", "only applies to a source with `synthetic: true`")
        if check_shares and source.synthetic and source.weight / total > source.max_share + 1e-12:  # type: ignore[operator]
            fail(f"{path}[{j}].max_share", f"synthetic source {source.name!r} would get {source.weight / total:.2%} "
                                          f"of the tokens (weight {source.weight:g} of {total:g}), above its "
                                          f"max_share {source.max_share:.2%}")


def _field_path(loc: tuple) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _problem(error: dict) -> str:
    kind, message = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required"
    if kind == "value_error":
        cause = error.get("ctx", {}).get("error")
        return str(cause) if isinstance(cause, PredicateError) else message.removeprefix("Value error, ")
    value = error.get("input")
    shown = f", got {value!r}" if isinstance(value, (str, int, float, bool)) or value is None else ""
    return message[0].lower() + message[1:] + shown
