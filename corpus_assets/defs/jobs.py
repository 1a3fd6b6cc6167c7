"""One job per phase: every shard on its own, one global deduplication, every shard's corpus, the summary,
every mixture."""
import dagster as dg

from corpus_assets.defs.phases import DEDUP, INGEST, MIX, PUBLISH, REPORT, phase_selection

ingest_job = dg.define_asset_job("ingest_shard", selection=phase_selection(INGEST),
                                 description="Per shard: documents, signals, decisions, dedup signatures.")
dedup_job = dg.define_asset_job("deduplicate", selection=phase_selection(DEDUP),
                                description="Global: duplicate clusters across all shards and crawls.")
corpus_job = dg.define_asset_job("publish_corpus", selection=phase_selection(PUBLISH),
                                 description="Per shard: the training-ready corpus partition.")
summary_job = dg.define_asset_job("summarize", selection=phase_selection(REPORT),
                                  description="Global: the crawl-wide summary of documents, filters and corpus.")
mixtures_job = dg.define_asset_job("build_mixtures", selection=phase_selection(MIX),
                                   description="Per mixture spec: its rows of the mixtures table and its manifest.")
