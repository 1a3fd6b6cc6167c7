from corpus_assets.defs.expectation_checks import expectation_checks

signals_checks = expectation_checks("signals")
decisions_checks = expectation_checks("decisions")
