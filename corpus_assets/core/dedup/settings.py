"""One MinHash setting per warehouse: signatures hashed with different settings never match, so a
mix of settings must stop the global step instead of silently losing duplicates."""
from __future__ import annotations

import polars as pl


class MixedMinHashSettings(ValueError):
    """Shards of the band index were hashed with different MinHash settings."""


def check_one_minhash_config(configs: pl.DataFrame, expected: str | None = None) -> str | None:
    """`configs` has `crawl, shard, minhash_config` (any number of rows per shard). Return the one
    setting present (None when there is none), or raise one line naming the shards of each setting.
    With `expected` (the code location's setting), shards hashed otherwise are named too."""
    per_shard = (configs.drop_nulls("minhash_config").select("crawl", "shard", "minhash_config").unique()
                 .with_columns(key=pl.concat_str("crawl", pl.lit("/"), "shard")))
    groups = {config: sorted(keys) for config, keys in
              per_shard.group_by("minhash_config").agg("key").iter_rows()}
    if expected is not None and groups and set(groups) != {expected}:
        groups.setdefault(expected, [])
    if len(groups) <= 1:
        return next(iter(groups), None)

    def named(keys: list[str]) -> str:
        return ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "") if keys else "no shard"

    # the odd shards first (a CLI shows ~300 characters of an error), the code location's setting last
    ordered = sorted(groups.items(), key=lambda item: (item[0] == expected, len(item[1])))
    stale = sorted(key for config, keys in groups.items() if config != expected for key in keys) if expected else []
    fix = f"re-hash {named(stale)}" if stale else "re-hash the odd shards"
    parts = "; ".join(f"{named(keys)} with {config}{' (current setting)' if config == expected else ''}"
                      for config, keys in ordered)
    raise MixedMinHashSettings(f"{fix} (`corpus materialize --select dedup_signatures`): dedup_signatures mixes "
                               f"{len(groups)} MinHash settings, which never match each other: {parts}")
