"""The one Definitions object of the code location: assets, checks, jobs, sensors, schedules, resources."""
import dagster as dg

from corpus_assets.defs.checks import expectation_checks
from corpus_assets.defs.corpus.assets import corpus
from corpus_assets.defs.dedup.assets import dedup_clusters, dedup_signatures
from corpus_assets.defs.documents.assets import documents
from corpus_assets.defs.signals.assets import decisions, signals
from corpus_assets.defs.sources.discovery import SHARD_ASSETS, daily_crawl_check, new_warc_files_sensor
from corpus_assets.resources import CommonCrawlSource, Warehouse

# Three steps, three jobs: every shard on its own; one global deduplication; every shard's corpus.
ingest_job = dg.define_asset_job("ingest_shard", selection=SHARD_ASSETS,
                                 description="Per shard: documents, signals, decisions, dedup signatures.")
dedup_job = dg.define_asset_job("deduplicate", selection=[dedup_clusters],
                                description="Global: duplicate clusters across all shards and crawls.")
corpus_job = dg.define_asset_job("publish_corpus", selection=[corpus],
                                 description="Per shard: the training-ready corpus partition.")

defs = dg.Definitions(
    assets=[documents, signals, decisions, dedup_signatures, dedup_clusters, corpus],
    asset_checks=expectation_checks,
    jobs=[ingest_job, dedup_job, corpus_job],
    sensors=[new_warc_files_sensor],
    schedules=[daily_crawl_check],
    resources={"warehouse": Warehouse(), "cc_source": CommonCrawlSource()},
)
