from corpus_assets.defs.expectation_checks import expectation_checks

corpus_checks = expectation_checks("corpus")
