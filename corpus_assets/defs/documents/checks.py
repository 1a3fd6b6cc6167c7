from corpus_assets.defs.expectation_checks import documents_written, expectation_checks

documents_checks = expectation_checks("documents", validation_context=documents_written)
