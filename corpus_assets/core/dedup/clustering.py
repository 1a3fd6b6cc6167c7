"""Global near-duplicate clustering over LSH band keys: DuckDB + a NumPy union-find.

Input: band-key tables (``doc_id, band, band_key`` from ``minhash.minhash_batch``)
of *all* documents, across partitions and crawls - Parquet files / globs /
directories, Delta tables, or in-memory Polars / Arrow frames.  Nothing is ever
loaded into Python as a whole: DuckDB runs with ``SET memory_limit`` and a
private ``temp_directory`` (and a file-backed database in it), so every
aggregate, join and sort spills to disk when needed.

Algorithm (``cluster_band_keys``)
---------------------------------
1. **Candidate edges**, per *shard* of band keys (``band_key mod n_shards``; band
   keys are uniform 64-bit hashes and include the band index, so each LSH bucket
   lives in exactly one shard): find the keys held by >= 2 docs (a hash
   aggregate on the ``BIGINT`` key alone), then link every member of such a
   bucket to the bucket's *smallest* ``doc_id`` - a star, i.e. ``k - 1`` edges
   for a bucket of ``k`` docs instead of ``k (k-1) / 2`` pairs.  ``n_shards`` is
   chosen so that one shard holds at most ``shard_rows`` rows (default derived
   from ``memory_limit``); memory is then bounded by the shard, not the corpus.
2. **Optional verification** (``signatures=`` + ``threshold=``): candidates are then
   every *pair* of a bucket (buckets of up to ``PAIR_BUCKET_MAX`` docs; a star beyond),
   and each pair is kept only if the estimated Jaccard of its two signatures
   (``minhash_docs``'s ``signature`` column) is >= ``threshold``; computed in NumPy
   over streamed Arrow batches.  Pairs rather than stars, because a false candidate
   that is the bucket's smallest ``doc_id`` would otherwise take the true pairs'
   only edge with it when its own edge fails verification.  This is the second
   stage of a permissive LSH (e.g. 28 bands x 4 rows, see ``minhash.py``).
3. **Integer mapping**: the distinct edge endpoints (only docs that have a
   candidate at all - usually a small fraction of the corpus) get a dense
   ``idx`` in ``doc_id`` order.
4. **Connected components** with a vectorised union-find over those ``idx``
   (``UnionFind``: hook larger root onto smaller root with
   ``np.minimum.at``, then pointer doubling), edges streamed from DuckDB in
   Arrow batches.  Memory: one int32/int64 per candidate doc + one edge batch.
5. **Output** ``doc_id, cluster_id, cluster_size`` for docs in clusters of size
   >= 2, where ``cluster_id`` is the **smallest ``doc_id`` of the cluster**
   (deterministic, independent of processing order, stable under incremental
   updates as long as no smaller doc joins).

Memory
------
DuckDB stays within ``memory_limit`` (spilling to ``temp_directory``); on top of
it the process holds the interpreter + imports (~120 MB), one edge batch (4M
pairs of int32/int64) and the union-find array (4-8 bytes per *candidate* doc).
Measured with ``memory_limit="512MB"`` (``benchmarks/bench_dedup.py``): peak RSS
317 MB at 100k docs (1.4M band-key rows) and 409 MB at 1M docs (14M rows, 7
shards), 8 s wall on 2 cores.
Verification builds its hash tables over the signatures of every document, so it
runs under its own, smaller limit (``VERIFY_MEMORY``; it spills the rest), and
``DedupDB.release`` hands each finished step's memory back to the OS: freed memory
stayed resident otherwise, and the next step's came on top of it (a verified run
over 1M documents, 28 bands: 1,113 MB peak RSS in ``dedup_clusters`` before, 753 MB
after; ``benchmarks/results/shard_memory.md``).

Incremental (``cluster_incremental``)
-------------------------------------
State = the stored band index (band keys of all previously seen docs) + the
current cluster table.  Adding a partition only MinHashes the *new* docs; then:

* ``touched`` = the band keys of the new docs; ``members`` = new rows + rows of
  the band index whose key is touched (a semi-join: the index is *scanned*, only
  the new keys are held in memory);
* star edges of each touched bucket with >= 2 members (over old + new members);
* plus, for every old cluster that contains an endpoint of those edges, the star
  ``member -> cluster_id`` (which reproduces that cluster's connectivity);
* connected components of that graph give the new/changed clusters; untouched
  old clusters are kept as they are.

Result == a from-scratch run over all band keys (tested), because a bucket whose
members are all old contributes only edges inside existing clusters, and the
full star of a touched bucket connects exactly what the from-scratch star does.
With verification, the pairs of every touched bucket that involve a new doc are
verified, so the result equals the verified from-scratch run as long as no pair of
two *old* docs changes its verdict (it cannot: signatures are stored).

Sharding across machines
------------------------
Step 1 is embarrassingly parallel by shard: machine ``m`` of ``M`` handles the
band keys with ``band_key mod M == m`` (or simply a subset of bands - every bucket
lies inside one band) and writes its edges to Parquet.  The edge list (about one
edge per duplicate doc per band) is small next to the band index, so steps 3-5
run on one machine; for web scale they can be replaced by SQL min-label
propagation (``UPDATE label = min(label of neighbours)`` until no change),
which shards by ``doc_id`` hash.  The band index itself should be stored
partitioned / sorted by ``band`` (or key prefix) so shard scans skip row groups.
"""
from __future__ import annotations

import logging
import math
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from corpus_assets.core.lake import duckdb_delta

__all__ = [
    "Source",
    "UnionFind",
    "DedupDB",
    "IncrementalResult",
    "cluster_band_keys",
    "cluster_incremental",
    "pick_representatives",
    "parse_memory_limit",
]

log = logging.getLogger(__name__)

Source = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]], pl.DataFrame, pl.LazyFrame, pa.Table]

_EDGE_BATCH = 1 << 22
RELEASE_LIMIT = "32MB"  # DedupDB.release(): enough for what stays pinned between two statements
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_memory_limit(limit: str) -> int:
    """'1GB' / '512MiB' / '2 GB' -> bytes."""
    m = re.fullmatch(r"\s*([\d.]+)\s*([kmgt]?i?b)?\s*", limit.lower())
    if not m:
        raise ValueError(f"bad memory limit {limit!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2) or "b"])


# --------------------------------------------------------------------------- union-find


class UnionFind:
    """Vectorised union-find over dense integer ids ``0..n-1``.

    ``parent`` is kept fully compressed between calls (every entry points at its
    root); the root of a set is always its *smallest* id.
    """

    def __init__(self, n: int) -> None:
        self.parent = np.arange(n, dtype=np.int32 if n < 2**31 - 1 else np.int64)

    def _compress(self) -> None:
        p = self.parent
        while True:
            pp = p[p]
            if np.array_equal(pp, p):
                return
            p[:] = pp

    def union(self, u: np.ndarray, v: np.ndarray) -> None:
        """Merge the sets of ``u[i]`` and ``v[i]`` for all i."""
        p = self.parent
        u = np.asarray(u, dtype=p.dtype)
        v = np.asarray(v, dtype=p.dtype)
        while u.size:
            ru, rv = p[u], p[v]
            m = ru != rv
            if not m.any():
                return
            u, v, ru, rv = u[m], v[m], ru[m], rv[m]
            np.minimum.at(p, np.maximum(ru, rv), np.minimum(ru, rv))
            self._compress()

    def roots(self) -> np.ndarray:
        self._compress()
        return self.parent


# --------------------------------------------------------------------------- DuckDB plumbing


def _sql_str(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


class DedupDB:
    """A private, file-backed DuckDB in a scratch directory, with a memory limit.

    Use as a context manager; the scratch directory is deleted on exit.
    """

    def __init__(self, memory_limit: str = "1GB", temp_directory: str | os.PathLike | None = None, threads: int | None = None):
        if temp_directory is not None:
            os.makedirs(temp_directory, exist_ok=True)
        self.workdir = Path(tempfile.mkdtemp(prefix="dedup-", dir=temp_directory))
        self.memory_limit = memory_limit
        self.con = duckdb_delta.connect(str(self.workdir / "dedup.duckdb"))
        self.con.execute(f"SET memory_limit = {_sql_str(memory_limit)}")
        self.con.execute(f"SET temp_directory = {_sql_str(str(self.workdir / 'spill'))}")
        self.con.execute("SET preserve_insertion_order = false")
        # hand freed memory back to the OS after each big operator: a later step could not reuse it (measured:
        # ~250 MB stayed resident after the candidate pairs of 1M documents, on top of what verification needed)
        self.con.execute("SET allocator_flush_threshold = '16MB'")
        self.con.execute("SET allocator_bulk_deallocation_flush_threshold = '16MB'")
        self.con.execute("SET allocator_background_threads = true")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self._delta_loaded: bool | None = None
        self._n = 0

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "DedupDB":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def release(self) -> None:
        """Hand the memory of finished steps back to the OS: a moment under a tiny limit evicts DuckDB's cached
        blocks and flushes its allocators (a later step would not reuse that memory: after the candidate pairs
        of 1M documents ~250 MB stayed resident, to which verification then added its own)."""
        try:
            self.con.execute(f"SET memory_limit = {_sql_str(RELEASE_LIMIT)}")
        except duckdb.Error:  # pragma: no cover - something still pinned: keep it
            pass
        self.con.execute(f"SET memory_limit = {_sql_str(self.memory_limit)}")

    def sql(self, q: str, params=None):
        return self.con.execute(q, params) if params is not None else self.con.execute(q)

    def _load_delta(self) -> bool:
        if self._delta_loaded is None:
            try:
                duckdb_delta.load_delta(self.con)
                self._delta_loaded = True
            except (duckdb.Error, FileNotFoundError, ImportError):
                self._delta_loaded = False
        return self._delta_loaded

    def register(self, name: str, src: Source) -> str:
        """Create view ``name`` over ``src``; returns ``name``."""
        self._n += 1
        if isinstance(src, pl.LazyFrame):
            path = self.workdir / f"{name}_{self._n}.parquet"
            src.sink_parquet(path)
            src = str(path)
        if isinstance(src, pl.DataFrame):
            src = src.to_arrow()
        if isinstance(src, pa.Table):
            self.con.register(f"{name}__arrow", src)
            self.con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {name}__arrow")
            return name
        paths = [src] if isinstance(src, (str, os.PathLike)) else list(src)
        parquet: list[str] = []
        parts: list[str] = []
        for p in paths:
            p = os.fspath(p)
            if os.path.isdir(os.path.join(p, "_delta_log")):
                if self._load_delta():
                    parts.append(f"SELECT * FROM delta_scan({_sql_str(p)})")
                else:
                    from deltalake import DeltaTable

                    ds = DeltaTable(p).to_pyarrow_dataset()
                    self.con.register(f"{name}__ds{len(parts)}", ds)
                    parts.append(f"SELECT * FROM {name}__ds{len(parts)}")
            elif os.path.isdir(p):
                parquet.append(os.path.join(p, "**", "*.parquet"))
            else:
                parquet.append(p)
        if parquet:
            lst = ", ".join(_sql_str(p) for p in parquet)
            parts.insert(0, f"SELECT * FROM read_parquet([{lst}], union_by_name = true)")
        if not parts:
            raise ValueError(f"no input for {name}")
        self.con.execute(f"CREATE OR REPLACE VIEW {name} AS " + " UNION ALL BY NAME ".join(parts))
        return name


# --------------------------------------------------------------------------- shared steps


def _auto_shard_rows(memory_limit: str) -> int:
    # Measured: a 2M-row shard peaks at ~250 MB above the interpreter's RSS (scan buffers + two
    # hash aggregates + the semi-join), so ~256 bytes per row keeps the process near memory_limit.
    return max(250_000, parse_memory_limit(memory_limit) // 256)


# candidate pairs per verification batch: each row carries two signatures (~0.9 kB at 112 permutations), so
# 200k rows held ~0.2 GB per batch outside DuckDB's memory limit
VERIFY_BATCH = 20_000
# DuckDB memory of the verification join: it builds hash tables over the signatures of *every* document (two, one
# per endpoint), so under the full memory_limit it took all of it from ~1M documents up; at this limit the join spills
# (1M documents: ~1 CPU-s more, 4.2-5.7 CPU-s against 3.3-4.7 at 512MB; 128MB ran out of memory)
VERIFY_MEMORY = "192MB"
PAIR_BUCKET_MAX = 64  # verified runs: all pairs of a bucket up to this size, a star beyond (bounded work)


def _bucket_edges_sql(members: str, pairs: bool, new_docs: str | None = None) -> str:
    """Edges of the buckets (band keys) of ``members(doc_id, band_key)`` held by >= 2 docs.

    Star (``pairs=False``): every member -> the bucket's smallest doc_id (k - 1 edges, exact connectivity
    without verification). Pairs (``pairs=True``, for verification): every pair of a bucket of at most
    ``PAIR_BUCKET_MAX`` docs, so that a false candidate that happens to be the smallest doc_id cannot cut
    true pairs off when its own edges fail verification; larger buckets keep the star. With ``new_docs``
    only pairs touching one of those docs (the others are already in the stored clusters).
    """
    if not pairs:
        return f"""
            WITH r AS (SELECT band_key, min(doc_id) AS root FROM {members} GROUP BY band_key HAVING count(*) > 1)
            SELECT DISTINCT m.doc_id AS src, r.root AS dst FROM {members} m JOIN r USING (band_key)
            WHERE m.doc_id <> r.root"""
    touching = f"AND (a.doc_id IN (SELECT doc_id FROM {new_docs}) OR b.doc_id IN (SELECT doc_id FROM {new_docs}))" \
        if new_docs else ""
    return f"""
        WITH n AS (SELECT band_key, count(*) AS size, min(doc_id) AS root FROM {members}
                   GROUP BY band_key HAVING count(*) > 1),
             m AS (SELECT x.doc_id, x.band_key, n.size, n.root FROM {members} x JOIN n USING (band_key))
        SELECT DISTINCT a.doc_id AS src, b.doc_id AS dst FROM m a JOIN m b USING (band_key)
        WHERE a.size <= {PAIR_BUCKET_MAX} AND a.doc_id > b.doc_id {touching}
        UNION
        SELECT m.doc_id AS src, m.root AS dst FROM m WHERE m.size > {PAIR_BUCKET_MAX} AND m.doc_id <> m.root"""


def _edges_from_buckets(db: DedupDB, view: str, table: str, shard_rows: int | None, pairs: bool = False) -> None:
    """Candidate edges of all buckets with >= 2 docs (stars, or pairs for verification), shard by shard."""
    con = db.con
    n_rows = con.execute(f"SELECT count(*) FROM {view}").fetchone()[0]  # type: ignore[index]
    rows = shard_rows or _auto_shard_rows(db.memory_limit)
    n_shards = max(1, math.ceil(n_rows / rows))
    con.execute(f"CREATE TABLE {table} AS SELECT doc_id AS src, doc_id AS dst FROM {view} LIMIT 0")
    for s in range(n_shards):
        where = f"WHERE (band_key % {n_shards} + {n_shards}) % {n_shards} = {s}" if n_shards > 1 else ""
        con.execute(f"CREATE OR REPLACE TEMP VIEW shard_members AS SELECT doc_id, band_key FROM {view} {where}")
        con.execute(f"INSERT INTO {table} {_bucket_edges_sql('shard_members', pairs)}")
    log.debug("edges from %d band-key rows in %d shard(s)", n_rows, n_shards)


def _signature_matrix(column: pa.Array, num_perm: int | None) -> np.ndarray:
    """(rows, num_perm) uint32 view of a binary column of equal-length signatures (no copy per row)."""
    if len(column) == 0:
        return np.empty((0, num_perm or 1), dtype="<u4")
    offset_type = np.int64 if pa.types.is_large_binary(column.type) else np.int32
    offsets = np.frombuffer(column.buffers()[1], dtype=offset_type)[column.offset: column.offset + len(column) + 1]
    data = np.frombuffer(column.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]]
    width = num_perm or int(offsets[1] - offsets[0]) // 4
    if data.size != len(column) * width * 4:
        raise ValueError("signatures of different lengths: hashed with different num_perm")
    return data.view("<u4").reshape(len(column), width)


def _verify_edges(db: DedupDB, table: str, signatures: Source, threshold: float, num_perm: int | None) -> None:
    """Keep only edges whose endpoints' estimated Jaccard >= threshold (in place)."""
    con = db.con
    db.release()
    sig = db.register("sig_src", signatures)
    out_path = db.workdir / f"{table}_verified.parquet"
    limit = min(db.memory_limit, VERIFY_MEMORY, key=parse_memory_limit)
    con.execute(f"SET memory_limit = {_sql_str(limit)}")
    rel = con.execute(
        f"""
        SELECT e.src, e.dst, a.signature AS sa, b.signature AS sb
        FROM (SELECT DISTINCT src, dst FROM {table}) e
        JOIN {sig} a ON a.doc_id = e.src
        JOIN {sig} b ON b.doc_id = e.dst
        WHERE a.signature IS NOT NULL AND b.signature IS NOT NULL
        """
    )
    reader = rel.to_arrow_reader(VERIFY_BATCH)
    writer = None
    try:
        for batch in reader:
            a = _signature_matrix(batch.column("sa"), num_perm)
            b = _signature_matrix(batch.column("sb"), num_perm)
            jac = (a == b).mean(axis=1)
            kept = pa.Table.from_batches([batch]).select(["src", "dst"]).filter(pa.array(jac >= threshold))
            if writer is None:
                writer = pq.ParquetWriter(out_path, kept.schema)
            writer.write_table(kept)
    finally:
        if writer is not None:
            writer.close()
        con.execute(f"SET memory_limit = {_sql_str(db.memory_limit)}")
    con.execute(f"DELETE FROM {table}")
    if writer is not None:
        con.execute(f"INSERT INTO {table} SELECT src, dst FROM read_parquet({_sql_str(str(out_path))})")
        out_path.unlink()


def _components(db: DedupDB, edges: str, result: str) -> int:
    """Connected components of ``edges(src, dst)`` -> table ``result(doc_id, cluster_id, cluster_size)``."""
    con = db.con
    db.release()
    con.execute(
        f"""
        CREATE TABLE nodes AS
        SELECT doc_id, (row_number() OVER (ORDER BY doc_id) - 1)::BIGINT AS idx
        FROM (SELECT src AS doc_id FROM {edges} UNION SELECT dst FROM {edges})
        """
    )
    n = con.execute("SELECT count(*) FROM nodes").fetchone()[0]  # type: ignore[index]
    uf = UnionFind(n)
    if n:
        reader = con.execute(
            f"""
            SELECT DISTINCT a.idx AS u, b.idx AS v
            FROM {edges} e JOIN nodes a ON a.doc_id = e.src JOIN nodes b ON b.doc_id = e.dst
            """
        ).to_arrow_reader(_EDGE_BATCH)
        buf_u: list[np.ndarray] = []
        buf_v: list[np.ndarray] = []
        size = 0
        for batch in reader:
            buf_u.append(batch.column(0).to_numpy())
            buf_v.append(batch.column(1).to_numpy())
            size += batch.num_rows
            if size >= _EDGE_BATCH:
                uf.union(np.concatenate(buf_u), np.concatenate(buf_v))
                buf_u, buf_v, size = [], [], 0
        if size:
            uf.union(np.concatenate(buf_u), np.concatenate(buf_v))
    roots = uf.roots()
    labels = pa.table({"idx": pa.array(np.arange(n, dtype=np.int64)), "root": pa.array(roots.astype(np.int64))})
    con.register("labels__arrow", labels)
    con.execute(
        f"""
        CREATE TABLE {result} AS
        WITH sz AS (SELECT root, count(*)::BIGINT AS cluster_size FROM labels__arrow GROUP BY root)
        SELECT d.doc_id, r.doc_id AS cluster_id, sz.cluster_size
        FROM labels__arrow l
        JOIN nodes d ON d.idx = l.idx
        JOIN nodes r ON r.idx = l.root
        JOIN sz ON sz.root = l.root
        """
    )
    con.unregister("labels__arrow")
    con.execute("DROP TABLE nodes")
    db.release()
    return n


def _emit(db: DedupDB, query: str, output_path: str | os.PathLike | None) -> pl.DataFrame | Path:
    if output_path is not None:
        db.con.execute(f"COPY ({query}) TO {_sql_str(os.fspath(output_path))} (FORMAT parquet)")
        return Path(output_path)
    return pl.from_arrow(db.con.execute(query).to_arrow_table())  # type: ignore[return-value]


# --------------------------------------------------------------------------- public API


def cluster_band_keys(
    band_keys: Source,
    *,
    memory_limit: str = "1GB",
    temp_directory: str | os.PathLike | None = None,
    threads: int | None = None,
    shard_rows: int | None = None,
    signatures: Source | None = None,
    threshold: float | None = None,
    num_perm: int | None = None,
    output_path: str | os.PathLike | None = None,
) -> pl.DataFrame | Path:
    """Cluster all documents of ``band_keys`` (``doc_id, [band,] band_key``) from scratch.

    Returns ``pl.DataFrame[doc_id, cluster_id, cluster_size]`` (clusters of size
    >= 2 only, sorted by ``cluster_id, doc_id``; ``cluster_id`` = smallest
    ``doc_id`` of the cluster), or writes it to ``output_path`` (Parquet) and
    returns that path.  ``memory_limit`` / ``temp_directory`` / ``threads`` go
    to DuckDB; ``shard_rows`` caps band-key rows per candidate-generation pass
    (default: ``memory_limit`` bytes / 256).  With ``signatures``
    (``doc_id, signature`` as from ``minhash_docs``) and ``threshold``,
    candidate edges are verified by estimated Jaccard.
    """
    with DedupDB(memory_limit, temp_directory, threads) as db:
        bk = db.register("bk", band_keys)
        verify = signatures is not None and threshold is not None
        _edges_from_buckets(db, bk, "edges", shard_rows, pairs=verify)
        if signatures is not None and threshold is not None:
            _verify_edges(db, "edges", signatures, threshold, num_perm)
        _components(db, "edges", "result")
        return _emit(db, "SELECT * FROM result ORDER BY cluster_id, doc_id", output_path)


@dataclass
class IncrementalResult:
    """Output of ``cluster_incremental``.

    ``changed``: rows (``doc_id, cluster_id, cluster_size``) of every cluster
    that is new or whose membership changed - upsert these by ``doc_id``.
    ``clusters``: the complete updated cluster table (unchanged old clusters +
    ``changed``), or None with ``return_full=False``.
    ``stats``: counts (new band-key rows, touched members, edges, nodes).
    """

    changed: pl.DataFrame
    clusters: pl.DataFrame | None
    stats: dict = field(default_factory=dict)


def cluster_incremental(
    existing_band_keys: Source | None,
    existing_clusters: Source | None,
    new_band_keys: Source,
    *,
    memory_limit: str = "1GB",
    temp_directory: str | os.PathLike | None = None,
    threads: int | None = None,
    signatures: Source | None = None,
    threshold: float | None = None,
    num_perm: int | None = None,
    return_full: bool = True,
) -> IncrementalResult:
    """Update ``existing_clusters`` with the docs of ``new_band_keys``.

    ``existing_band_keys`` is the band index of all previously clustered docs
    (it may already contain the new rows), ``existing_clusters`` the previous
    output (``doc_id, cluster_id, cluster_size``); either may be None on the
    first run.  Only the new band keys are held in memory; the index is scanned.
    Equal to ``cluster_band_keys(existing + new)`` (without verification).
    """
    if isinstance(existing_band_keys, (list, tuple)) and not existing_band_keys:
        existing_band_keys = None
    if isinstance(existing_clusters, (list, tuple)) and not existing_clusters:
        existing_clusters = None
    with DedupDB(memory_limit, temp_directory, threads) as db:
        con = db.con
        new = db.register("newbk", new_band_keys)
        con.execute(f"CREATE TABLE new_k AS SELECT DISTINCT doc_id, band_key FROM {new}")
        con.execute("CREATE TABLE touched AS SELECT DISTINCT band_key FROM new_k")
        if existing_band_keys is not None:
            old = db.register("oldbk", existing_band_keys)
            old_rows = f"UNION SELECT o.doc_id, o.band_key FROM {old} o SEMI JOIN touched USING (band_key)"
        else:
            old_rows = ""
        con.execute(f"CREATE TABLE members AS SELECT doc_id, band_key FROM new_k {old_rows}")
        verify = signatures is not None and threshold is not None
        if verify:
            con.execute("CREATE TABLE new_docs AS SELECT DISTINCT doc_id FROM new_k")
        con.execute(f"CREATE TABLE edges AS {_bucket_edges_sql('members', verify, 'new_docs' if verify else None)}")
        if signatures is not None and threshold is not None:
            _verify_edges(db, "edges", signatures, threshold, num_perm)
        stats = {
            "new_rows": con.execute("SELECT count(*) FROM new_k").fetchone()[0],  # type: ignore[index]
            "members": con.execute("SELECT count(*) FROM members").fetchone()[0],  # type: ignore[index]
            "new_edges": con.execute("SELECT count(*) FROM edges").fetchone()[0],  # type: ignore[index]
        }
        if existing_clusters is not None:
            oc = db.register("oldcl", existing_clusters)
            con.execute(
                f"""
                CREATE TABLE affected AS
                SELECT DISTINCT c.cluster_id FROM {oc} c
                WHERE c.doc_id IN (SELECT src FROM edges UNION SELECT dst FROM edges)
                """
            )
            con.execute(
                f"""
                INSERT INTO edges
                SELECT c.doc_id, c.cluster_id FROM {oc} c SEMI JOIN affected USING (cluster_id)
                WHERE c.doc_id <> c.cluster_id
                """
            )
        stats["nodes"] = _components(db, "edges", "result")
        changed = _emit(db, "SELECT * FROM result ORDER BY cluster_id, doc_id", None)
        full = None
        if return_full:
            if existing_clusters is not None:
                full = _emit(
                    db,
                    f"""
                    SELECT * FROM (
                        SELECT c.doc_id, c.cluster_id, c.cluster_size::BIGINT AS cluster_size
                        FROM {oc} c ANTI JOIN affected USING (cluster_id)
                        UNION ALL SELECT * FROM result)
                    ORDER BY cluster_id, doc_id
                    """,
                    None,
                )
            else:
                full = changed
        return IncrementalResult(changed=changed, clusters=full, stats=stats)  # type: ignore[arg-type]


def pick_representatives(
    clusters: pl.DataFrame | pl.LazyFrame,
    docs_meta: pl.DataFrame | pl.LazyFrame | None = None,
    *,
    doc_col: str = "doc_id",
    cluster_col: str = "cluster_id",
    score_col: str = "quality_score",
    time_col: str = "fetch_time",
) -> pl.DataFrame:
    """Choose one document to keep per cluster, deterministically.

    Priority inside a cluster: highest ``quality_score`` (if that column is in
    ``docs_meta``), then earliest ``fetch_time`` (if present), then smallest
    ``doc_id``; missing values rank last.  Returns ``doc_id, cluster_id,
    is_kept`` for every clustered doc, plus every doc of ``docs_meta`` that is in
    no cluster (``cluster_id`` null, ``is_kept`` True).  Any other columns of
    ``clusters`` (e.g. ``cluster_size``) are carried along.
    """
    c = clusters.lazy()
    meta = docs_meta.lazy() if docs_meta is not None else None
    keys: list[str] = []
    desc: list[bool] = []
    if meta is not None:
        names = meta.collect_schema().names()
        if score_col in names:
            keys.append(score_col)
            desc.append(True)
        if time_col in names:
            keys.append(time_col)
            desc.append(False)
        meta = meta.select([doc_col, *keys]).unique(subset=[doc_col], keep="first")
        c = c.join(meta, on=doc_col, how="left")
    order = [cluster_col, *keys, doc_col]
    ranked = (
        c.sort(order, descending=[False, *desc, False], nulls_last=True)
        .with_columns(pl.col(cluster_col).is_first_distinct().alias("is_kept"))
        .drop(keys)
    )
    if meta is None:
        return ranked.collect()
    ccols = clusters.lazy().collect_schema()
    singles = meta.join(c.select(doc_col), on=doc_col, how="anti").select(
        pl.col(doc_col),
        pl.lit(None, dtype=ccols[cluster_col]).alias(cluster_col),
        pl.lit(True).alias("is_kept"),
    )
    out = pl.concat([ranked, singles], how="diagonal_relaxed").collect()
    return out
