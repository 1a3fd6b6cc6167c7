from corpus_assets.defs.expectation_checks import expectation_checks

dedup_clusters_checks = expectation_checks("dedup_clusters", partitions_def=None)
