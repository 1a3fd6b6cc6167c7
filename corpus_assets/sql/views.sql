-- One DuckDB view per Delta table of the warehouse.
-- `corpus sql` (and corpus_assets.core.sql.connect) sets the variable `warehouse` to the warehouse root
-- and creates each view whose table exists. Blocks start with `-- view: NAME`.
-- Any DuckDB client can do the same by hand:
--   LOAD '<site-packages>/duckdb_extension_delta/extensions/v1.5.5/delta.duckdb_extension';
--   SET VARIABLE warehouse = '/path/to/warehouse';

-- view: documents
CREATE OR REPLACE VIEW documents AS
SELECT * FROM delta_scan(getvariable('warehouse') || '/documents');

-- view: signals
CREATE OR REPLACE VIEW signals AS
SELECT * FROM delta_scan(getvariable('warehouse') || '/signals');

-- view: decisions
CREATE OR REPLACE VIEW decisions AS
SELECT * FROM delta_scan(getvariable('warehouse') || '/decisions');

-- view: corpus
CREATE OR REPLACE VIEW corpus AS
SELECT * FROM delta_scan(getvariable('warehouse') || '/corpus');

-- view: dedup_signatures
CREATE OR REPLACE VIEW dedup_signatures AS
SELECT * FROM delta_scan(getvariable('warehouse') || '/dedup_signatures');

-- view: minhash_bands
CREATE OR REPLACE VIEW minhash_bands AS
SELECT * FROM delta_scan(getvariable('warehouse') || '/minhash_bands');

-- view: boilerplate_lines
CREATE OR REPLACE VIEW boilerplate_lines AS
SELECT * FROM delta_scan(getvariable('warehouse') || '/boilerplate_lines');

-- view: dedup_clusters
CREATE OR REPLACE VIEW dedup_clusters AS
SELECT * FROM delta_scan(getvariable('warehouse') || '/dedup_clusters');

-- view: crawl_summary
CREATE OR REPLACE VIEW crawl_summary AS
SELECT * FROM delta_scan(getvariable('warehouse') || '/crawl_summary');

-- view: mixtures
CREATE OR REPLACE VIEW mixtures AS
SELECT * FROM delta_scan(getvariable('warehouse') || '/mixtures');

-- view: quality_scores
CREATE OR REPLACE VIEW quality_scores AS
SELECT * FROM delta_scan(getvariable('warehouse') || '/quality_scores');

-- view: quality_models
CREATE OR REPLACE VIEW quality_models AS
SELECT * FROM delta_scan(getvariable('warehouse') || '/quality_models');

-- view: quality_ratings
CREATE OR REPLACE VIEW quality_ratings AS
SELECT * FROM delta_scan(getvariable('warehouse') || '/quality_ratings');
