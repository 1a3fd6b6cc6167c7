"""The one Definitions object of the code location: assets, checks, jobs, sensors, schedules, resources."""
import dagster as dg

from corpus_assets.defs.corpus.assets import corpus
from corpus_assets.defs.documents.assets import documents
from corpus_assets.defs.signals.assets import decisions, signals
from corpus_assets.defs.sources.discovery import SHARD_ASSETS, daily_crawl_check, new_warc_files_sensor
from corpus_assets.resources import CommonCrawlSource, Warehouse

# one run per shard materializes every per-shard asset
ingest_job = dg.define_asset_job("ingest_shard", selection=SHARD_ASSETS)

defs = dg.Definitions(
    assets=[documents, signals, decisions, corpus],
    jobs=[ingest_job],
    sensors=[new_warc_files_sensor],
    schedules=[daily_crawl_check],
    resources={"warehouse": Warehouse(), "cc_source": CommonCrawlSource()},
)
