"""One job per phase: every shard on its own, the quality model, every shard's scores and decisions, one
global deduplication, every shard's corpus, the summary, every mixture."""
import dagster as dg

from corpus_assets.defs.phases import DEDUP, INGEST, MIX, MODEL, PUBLISH, REPORT, SCORE, phase_selection

ingest_job = dg.define_asset_job("ingest_shard", selection=phase_selection(INGEST),
                                 description="Per shard: documents, signals, dedup signatures.")
model_job = dg.define_asset_job("train_quality_model", selection=phase_selection(MODEL),
                                description="Global: a quality model version from ratings or the bootstrap, "
                                            "activated if it is no worse than the active one.")
score_job = dg.define_asset_job("score_shard", selection=phase_selection(SCORE),
                                description="Per shard: quality scores from the active model, then decisions.")
dedup_job = dg.define_asset_job("deduplicate", selection=phase_selection(DEDUP),
                                description="Global: duplicate clusters across all shards and crawls.")
corpus_job = dg.define_asset_job("publish_corpus", selection=phase_selection(PUBLISH),
                                 description="Per shard: the training-ready corpus partition.")
summary_job = dg.define_asset_job("summarize", selection=phase_selection(REPORT),
                                  description="Global: the crawl-wide summary of documents, filters and corpus.")
mixtures_job = dg.define_asset_job("build_mixtures", selection=phase_selection(MIX),
                                   description="Per mixture spec: its rows of the mixtures table and its manifest.")
