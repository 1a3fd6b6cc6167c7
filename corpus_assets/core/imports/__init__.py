"""Sources beyond Common Crawl: a JSONL or Parquet dataset imported as a source of its own, in its own
partitions (`import-<source>/<file hash>`), through the same pipeline as crawled shards."""
