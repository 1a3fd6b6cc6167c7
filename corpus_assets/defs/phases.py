"""The pipeline's phases, as asset tags: the jobs, the sensors and the CLI select assets by them.

ingest   per shard: documents, signals, decisions, dedup signatures (+ band index, boilerplate lines)
dedup    global: duplicate clusters across all shards and crawls
publish  per shard: the training-ready corpus
report   global: the crawl-wide summary
mix      per mixture spec: the mixtures built from the whole corpus
"""
import dagster as dg

PHASE_TAG = "corpus/phase"
INGEST, DEDUP, PUBLISH, REPORT, MIX = "ingest", "dedup", "publish", "report", "mix"
PHASES = (INGEST, DEDUP, PUBLISH, REPORT, MIX)
DEDUP_POOL = "dedup_clusters"  # a concurrency pool of one: the global dedup step never runs twice at once


def phase(name: str) -> dict[str, str]:
    """Tags that put an asset in a phase."""
    assert name in PHASES, name
    return {PHASE_TAG: name}


def phase_selection(name: str) -> dg.AssetSelection:
    return dg.AssetSelection.tag(PHASE_TAG, name)
