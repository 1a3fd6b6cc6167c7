"""Keep/drop decisions from quality signals + a FilterConfig (vectorised Polars).

``decide(signals, config)`` takes one row per document with ``doc_id``, ``lang``,
``lang_score``, every column of ``signals.SIGNAL_SCHEMA`` the config's rules use, and
``safety_tags`` (list[str]; may be missing or null = no tags) and returns::

    doc_id: str, keep: bool, drop_reasons: list[str], filter_config_hash: str

``drop_reasons`` lists EVERY rule the document fails (empty iff ``keep``), in this order:
``lang_not_allowed``, ``lang_score_below_min``, ``safety:<tag>`` (for each tag of the row in
``safety.drop_tags``), then the quality rules in ``filter_config.RULES`` order.  Rule thresholds
are chosen per row from ``languages.<lang>`` overrides with fallback to ``defaults``; a null
threshold disables the rule.  ``gopher_min_stop_words`` only applies to languages for which a
stop-word list is shipped (``words.stopword_languages()``), since the signal is 0 otherwise.
Null signal values never trigger a rule.  A null ``lang_score`` counts as below the minimum
whenever the minimum is > 0.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from corpus_assets.core.quality.filter_config import (
    LANG_ALLOWLIST_RULE,
    LANG_SCORE_RULE,
    RULES,
    SAFETY_REASON_PREFIX,
    FilterConfig,
    config_hash,
)
from corpus_assets.core.text.words import stopword_languages

__all__ = ["DECISION_SCHEMA", "decide", "drop_reason_counts"]

DECISION_SCHEMA: dict[str, pl.DataType] = {
    "doc_id": pl.String(),
    "keep": pl.Boolean(),
    "drop_reasons": pl.List(pl.String()),
    "filter_config_hash": pl.String(),
}

_LANG = pl.col("lang").cast(pl.String).fill_null("").str.to_lowercase()


def _threshold_expr(default: Any, per_lang: dict[str, Any], dtype: pl.DataType) -> pl.Expr | None:
    """Per-row threshold: the row's language override, else the default; None if always off."""
    if not per_lang:
        return None if default is None else pl.lit(default, dtype=dtype)
    if default is None and all(v is None for v in per_lang.values()):
        return None
    return _LANG.replace_strict(
        old=list(per_lang),
        new=pl.Series(values=list(per_lang.values()), dtype=dtype),
        default=pl.lit(default, dtype=dtype),
        return_dtype=dtype,
    )


def _fails(rule_name: str, config: FilterConfig) -> pl.Expr | None:
    rule = RULES[rule_name]
    default = config.defaults.get(rule_name)
    per_lang = {lg: ov[rule_name] for lg, ov in config.overrides.items() if rule_name in ov}
    if per_lang and all(v == default for v in per_lang.values()):
        per_lang = {}
    dtype: pl.DataType
    if rule.kind == "flag":
        dtype = pl.Boolean()
    elif rule.kind == "count":
        dtype = pl.Int64()
    else:
        dtype = pl.Float64()
    thr = _threshold_expr(default, per_lang, dtype)
    if thr is None:
        return None
    sig = pl.col(rule.signal)
    if rule.op == "flag":
        cond = thr & (sig > 0)
    elif rule.op == "lt":
        cond = sig < thr
    elif rule.op == "le":
        cond = sig <= thr
    elif rule.op == "gt":
        cond = sig > thr
    elif rule.op == "ge":
        cond = sig >= thr
    else:  # pragma: no cover - RULES is static
        raise ValueError(f"unknown op {rule.op!r} for rule {rule_name}")
    if rule_name == "gopher_min_stop_words":
        cond = cond & _LANG.is_in(sorted(stopword_languages()))
    return cond.fill_null(False)


def _reason(cond: pl.Expr, name: str) -> pl.Expr:
    return pl.when(cond).then(pl.lit(name, dtype=pl.String())).otherwise(pl.lit(None, dtype=pl.String()))


def _reason_exprs(config: FilterConfig, columns: set[str]) -> list[pl.Expr]:
    reasons: list[pl.Expr] = []
    if config.language_allowlist is not None:
        reasons.append(_reason(~_LANG.is_in(list(config.language_allowlist)), LANG_ALLOWLIST_RULE))

    min_scores = {lg: s for lg, s in config.lang_min_scores.items() if s != config.min_lang_score}
    if config.min_lang_score > 0 or any(s > 0 for s in min_scores.values()):
        thr = _threshold_expr(config.min_lang_score, min_scores, pl.Float64())
        score = pl.col("lang_score").cast(pl.Float64)
        cond = (score.is_null() & (thr > 0)) | (score < thr).fill_null(False)  # type: ignore[operator]
        reasons.append(_reason(cond, LANG_SCORE_RULE))

    if config.safety_drop_tags and "safety_tags" in columns:
        tags = pl.col("safety_tags")
        for tag in config.safety_drop_tags:
            cond = tags.list.contains(pl.lit(tag, dtype=pl.String())).fill_null(False)
            reasons.append(_reason(cond, f"{SAFETY_REASON_PREFIX}{tag}"))

    for name in RULES:
        cond = _fails(name, config)  # type: ignore[assignment]
        if cond is not None:
            reasons.append(_reason(cond, name))
    return reasons


def _required_columns(config: FilterConfig) -> set[str]:
    need = {"doc_id", "lang"}
    if config.min_lang_score > 0 or any(s > 0 for s in config.lang_min_scores.values()):
        need.add("lang_score")
    for name, rule in RULES.items():
        vals = [config.defaults.get(name)] + [ov[name] for ov in config.overrides.values() if name in ov]
        if any(v not in (None, False) for v in vals):
            need.add(rule.signal)
    return need


def decide(signals: pl.DataFrame, config: FilterConfig) -> pl.DataFrame:
    """Vectorised keep/drop for every row of ``signals`` (see module docstring)."""
    columns = set(signals.columns)
    missing = _required_columns(config) - columns
    if missing:
        raise ValueError(f"decide: input frame lacks column(s) {sorted(missing)}")
    chash = config_hash(config)
    reasons = _reason_exprs(config, columns)
    if not reasons:  # every rule disabled: an always-null reason keeps the list shape
        reasons = [_reason(pl.repeat(False, pl.len()), "never")]
    drop = pl.concat_list(reasons).list.drop_nulls()
    out = signals.select(
        pl.col("doc_id").cast(pl.String),
        drop.cast(pl.List(pl.String())).alias("drop_reasons"),
    ).select(
        "doc_id",
        (pl.col("drop_reasons").list.len() == 0).alias("keep"),
        "drop_reasons",
        pl.lit(chash, dtype=pl.String()).alias("filter_config_hash"),
    )
    return out


def drop_reason_counts(decisions: pl.DataFrame) -> pl.DataFrame:
    """(reason, n_docs) over a ``decide`` output, most frequent first - handy for asset metadata."""
    return (
        decisions.select(pl.col("drop_reasons").explode().alias("reason"))
        .drop_nulls()
        .group_by("reason")
        .len("n_docs")
        .sort(["n_docs", "reason"], descending=[True, False])
    )
