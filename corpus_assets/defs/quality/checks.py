from corpus_assets.defs.expectation_checks import expectation_checks

quality_scores_checks = expectation_checks("quality_scores")
quality_models_checks = expectation_checks("quality_models", partitions_def=None, asset="quality_model")
