"""Global deduplication: exact-text, same-URL and MinHash clusters merged into one cluster per document
group, with one deterministic representative each. Runs in a DuckDB with a memory limit (spills to disk).

Inputs are Delta tables (or Parquet files) of every partition:
  signatures  doc_id, crawl, shard, url, fetch_time, text_hash, minhash_status (one row per document)
  fuzzy       doc_id, cluster_id, cluster_size (MinHash-LSH components, see clustering.py)
  decisions   doc_id, keep (the filter verdict: a kept document is preferred as representative)

Cluster kinds: `url` when every member has the same URL and the same text (re-crawls: the latest fetch
is kept), `exact` when every member has the same normalised text, else `fuzzy`. Representative: a
document the filters keep, then the highest `quality_score` when that column exists, then (url) the
latest or (exact, fuzzy) the earliest fetch, then the smallest doc_id.
"""
from __future__ import annotations

from pathlib import Path

from corpus_assets.core.dedup.clustering import DedupDB, Source, _components
from corpus_assets.core.dedup.text import EMPTY_TEXT_HASH

CLUSTER_COLUMNS = ["doc_id", "url", "crawl", "shard", "fetch_time", "text_hash", "cluster_id", "cluster_size",
                   "is_kept", "dedup_kind"]


def final_clusters(signatures: Source, fuzzy: Source | None, decisions: Source, output_path: str | Path, *,
                   memory_limit: str = "1GB", temp_directory: str | None = None) -> dict:
    """Write `dedup_clusters` rows (documents in clusters of 2 or more) to the Parquet file `output_path`;
    return counts by kind."""
    with DedupDB(memory_limit, temp_directory) as db:
        con = db.con
        sig = db.register("sig", signatures)
        dec = db.register("dec", decisions)
        con.execute("CREATE TABLE edges (src VARCHAR, dst VARCHAR)")
        # exact text: a star from every member to the smallest doc_id of its text hash
        con.execute(f"""
            INSERT INTO edges
            SELECT s.doc_id, g.root FROM {sig} s
            JOIN (SELECT text_hash, min(doc_id) AS root FROM {sig} WHERE text_hash <> ?
                  GROUP BY text_hash HAVING count(*) > 1) g USING (text_hash)
            WHERE s.doc_id <> g.root""", [EMPTY_TEXT_HASH])
        if fuzzy is not None:
            fz = db.register("fz", fuzzy)
            con.execute(f"INSERT INTO edges SELECT doc_id, cluster_id FROM {fz} WHERE doc_id <> cluster_id")
        _components(db, "edges", "comp")
        has_quality = "quality_score" in [r[0] for r in con.execute(f"DESCRIBE {dec}").fetchall()]
        quality_order = "d.quality_score DESC NULLS LAST," if has_quality else ""
        con.execute(f"""
            CREATE TABLE members AS
            SELECT c.doc_id, s.url, s.crawl, s.shard, s.fetch_time, s.text_hash, c.cluster_id, c.cluster_size,
                   coalesce(d.keep, false) AS keep {", d.quality_score" if has_quality else ""}
            FROM comp c JOIN {sig} s USING (doc_id) LEFT JOIN {dec} d USING (doc_id)""")
        con.execute(f"""
            COPY (
              WITH kinds AS (
                SELECT cluster_id,
                       CASE WHEN count(DISTINCT text_hash) = 1 AND count(DISTINCT url) = 1 THEN 'url'
                            WHEN count(DISTINCT text_hash) = 1 THEN 'exact' ELSE 'fuzzy' END AS dedup_kind
                FROM members GROUP BY cluster_id)
              SELECT m.doc_id, m.url, m.crawl, m.shard, m.fetch_time, m.text_hash, m.cluster_id, m.cluster_size,
                     row_number() OVER (
                       PARTITION BY m.cluster_id
                       ORDER BY m.keep DESC, {quality_order.replace("d.", "m.")}
                                CASE WHEN k.dedup_kind = 'url' THEN -epoch(m.fetch_time) ELSE epoch(m.fetch_time) END
                                  NULLS LAST,
                                m.doc_id) = 1 AS is_kept,
                     k.dedup_kind
              FROM members m JOIN kinds k USING (cluster_id)
              ORDER BY m.cluster_id, m.doc_id
            ) TO '{Path(output_path)}' (FORMAT parquet)""")
        counts = dict(con.execute(f"""SELECT dedup_kind, count(*) FROM read_parquet('{Path(output_path)}')
                                      GROUP BY dedup_kind""").fetchall())
    return counts
