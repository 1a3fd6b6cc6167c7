"""The model-based quality cut of `decisions`: the filter config's `quality` rules applied to the
`quality_scores` of a shard, with the thresholds stored beside the model version that scored them.

A rule is relative (`top_token_fraction`: keep the best-scored pages holding that share of the
language's tokens, from the version's token-weighted percentiles) and/or absolute (`min_score`); with
both, the stricter applies. A language's own rule replaces the default rule; a language rule with
both values null switches the cut off there. Every row records the threshold it faced and which rule
set it (`quality_rule`, e.g. `top_token_fraction=0.7@zh` or `min_score=0.4`); rows without a rule
carry nulls and always pass.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from corpus_assets.core.quality.filter_config import FilterConfig
from corpus_assets.core.scoring.thresholds import QualityRule, threshold_for

QUALITY_REASON = "quality_score_below_threshold"
DEFAULT_RULE_KEY = "*"
CUT_SCHEMA = {"doc_id": pl.String, "quality_threshold": pl.Float64, "quality_rule": pl.String,
              "quality_passes": pl.Boolean}


def rule_for(config: FilterConfig, lang: str | None) -> QualityRule | None:
    """The quality rule a language faces (its own, else the default), or None for no cut."""
    rules = config.quality_rules
    values = rules.get((lang or "").lower(), rules.get(DEFAULT_RULE_KEY))
    if not values or all(v is None for v in values.values()):
        return None
    return QualityRule(top_token_fraction=values.get("top_token_fraction"), min_score=values.get("min_score"))


def needs_percentiles(config: FilterConfig) -> bool:
    return any(rule.get("top_token_fraction") is not None for rule in config.quality_rules.values())


def quality_cut(doc_ids: Sequence[str], langs: Sequence[str | None], scores: Sequence[float | None],
                config: FilterConfig, percentiles: Mapping[str, Sequence[float]] | None) -> pl.DataFrame:
    """Per document: the threshold it faces, the rule that set it, and whether its score reaches it
    (`CUT_SCHEMA`). A null score never passes a cut."""
    if needs_percentiles(config) and not percentiles:
        raise ValueError("the filter config's quality rule uses top_token_fraction, but the model version that "
                         "scored these documents has no stored thresholds")
    by_lang: dict[str, tuple[float, str] | None] = {}
    for lang in {(x or "").lower() for x in langs}:
        rule = rule_for(config, lang)
        by_lang[lang] = None if rule is None else threshold_for(rule, lang, percentiles or {})
    cut = [by_lang[(x or "").lower()] for x in langs]
    frame = pl.DataFrame({
        "doc_id": list(doc_ids),
        "quality_threshold": [c[0] if c else None for c in cut],
        "quality_rule": [c[1] if c else None for c in cut],
        "score": pl.Series(list(scores), dtype=pl.Float64),
    }, schema_overrides={"quality_threshold": pl.Float64, "quality_rule": pl.String})
    passes = pl.col("quality_threshold").is_null() | (pl.col("score") >= pl.col("quality_threshold")).fill_null(False)
    return frame.select("doc_id", "quality_threshold", "quality_rule", passes.alias("quality_passes"))
