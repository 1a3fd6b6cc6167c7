"""The pipeline's phases, as asset tags: the jobs, the sensors and the CLI select assets by them.

ingest   per shard: documents, signals, dedup signatures (+ band index, boilerplate lines)
model    global: the quality model, trained on the pages the rule filters keep (or on ratings)
score    per shard: quality scores from the active model, then decisions (rules + the quality cut)
dedup    global: duplicate clusters across all shards and crawls
publish  per shard: the training-ready corpus
report   global: the crawl-wide summary
mix      per mixture spec: the mixtures built from the whole corpus
"""
import dagster as dg

PHASE_TAG = "corpus/phase"
INGEST, MODEL, SCORE, DEDUP, PUBLISH, REPORT, MIX = "ingest", "model", "score", "dedup", "publish", "report", "mix"
PHASES = (INGEST, MODEL, SCORE, DEDUP, PUBLISH, REPORT, MIX)
DEDUP_POOL = "dedup_clusters"  # a concurrency pool of one: the global dedup step never runs twice at once


def phase(name: str) -> dict[str, str]:
    """Tags that put an asset in a phase."""
    assert name in PHASES, name
    return {PHASE_TAG: name}


def phase_selection(name: str) -> dg.AssetSelection:
    return dg.AssetSelection.tag(PHASE_TAG, name)
