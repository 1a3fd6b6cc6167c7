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
