from corpus_assets.defs.expectation_checks import expectation_checks

documents_checks = expectation_checks("documents")
