"""Delta tables of the warehouse: replace one partition atomically, read partitions back.

Every partitioned table is Delta-partitioned by (`crawl`, `shard`), which is exactly a Dagster partition:
re-materializing a partition is one overwrite transaction restricted by a predicate on those columns,
so it replaces exactly that partition's rows, and concurrent writers of different partitions touch
disjoint files. A commit that loses a race to another writer is retried by delta-rs itself, which
checks the two transactions for a real conflict (`CommitProperties.max_commit_retries`).
"""
from __future__ import annotations

import itertools
import re
from typing import Callable, Iterator, Mapping

import polars as pl
import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import TableNotFoundError

PARTITION_COLUMNS = ["crawl", "shard"]
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:/-]+$")
COMMIT_RETRIES = 20  # concurrent shard writers: each retry re-checks the winner's commit for a real conflict
# A Parquet row group is the unit a writer buffers and a pre-buffering reader loads whole: delta-rs's default
# (~1M rows, i.e. a whole ~100 MB file of text) made a shard's memory follow its file size, not its batch
ROW_GROUP_BYTES = 32 * 2**20
READ_BUFFER_BYTES = 4 * 2**20  # a Parquet reader streams pages through a buffer this size (no whole-row-group reads)


def _predicate(partition: dict[str, str]) -> str:
    # delta-rs takes predicates as SQL text; values are our own crawl ids and shard ranges, checked here
    for column, value in partition.items():
        if not _SAFE_VALUE.match(value):
            raise ValueError(f"unsafe partition value {column}={value!r}")
    return " AND ".join(f"{column} = '{value}'" for column, value in partition.items())


def replace_partition(table_uri: str, make_batches: Callable[[], Iterator[pa.RecordBatch]], schema: pa.Schema,
                      partition: dict[str, str], storage_options: dict[str, str] | None = None) -> None:
    """Write the batches from `make_batches()` as the whole content of `partition`, in one transaction."""
    batches, properties = _sized_row_groups(make_batches())
    reader = pa.RecordBatchReader.from_batches(schema, batches)
    # schema_mode="merge": a release that adds a column (corpus' `source`) extends an existing table; the
    # partitions not rewritten yet read it as null
    write_deltalake(table_uri, reader, mode="overwrite", predicate=_predicate(partition),
                    partition_by=list(partition), storage_options=storage_options or None, schema_mode="merge",
                    commit_properties=CommitProperties(max_commit_retries=COMMIT_RETRIES), writer_properties=properties)


def _sized_row_groups(batches: Iterator[pa.RecordBatch]) -> tuple[Iterator[pa.RecordBatch], WriterProperties]:
    """The batches (unchanged) and writer properties whose row groups hold ~ROW_GROUP_BYTES of Arrow data,
    sized from the first non-empty batch: ~10k rows of documents' text, ~500k rows of narrow tables."""
    head: list[pa.RecordBatch] = []
    for batch in batches:
        head.append(batch)
        if batch.num_rows:
            break
    rows = 1024 * 1024  # the parquet crate's default
    if head and head[-1].num_rows:
        rows = min(rows, max(1000, ROW_GROUP_BYTES * head[-1].num_rows // max(1, head[-1].nbytes)))
    # SNAPPY: delta-rs's default codec, which explicit properties would otherwise reset to none
    return itertools.chain(head, batches), WriterProperties(max_row_group_size=rows, compression="SNAPPY")


def table_exists(table_uri: str, storage_options: Mapping[str, str] | None = None) -> bool:
    try:
        DeltaTable(table_uri, storage_options=dict(storage_options) if storage_options else None)
        return True
    except TableNotFoundError:
        return False


def commit_history(table_uri: str, storage_options: Mapping[str, str] | None = None,
                   attempts: int = 50) -> list[dict]:
    """The table's commit infos, newest first, each with its true `version`.

    deltalake's `history()` numbers the commits it lists downward from the version its snapshot loaded,
    but lists the log as it is then: a commit landing in between shifts every number by one (measured:
    193 of 993 histories taken beside a writer). A listing is kept only when the table's version is the
    same before and after it; the log is append-only, so it then held exactly those commits."""
    options = dict(storage_options) if storage_options else None
    for _ in range(attempts):
        table = DeltaTable(table_uri, storage_options=options)
        history = table.history()
        if DeltaTable(table_uri, storage_options=options).version() == table.version():
            return history
    raise RuntimeError(f"{table_uri}: the Delta log changed during each of {attempts} history listings")


def partition_row_count(table_uri: str, partition: dict[str, str], storage_options: dict[str, str] | None = None) -> int:
    """Rows of one partition, from the file statistics of the Delta log (no data file is read)."""
    actions = pa.table(DeltaTable(table_uri, storage_options=storage_options or None)
                       .get_add_actions(flatten=True)).to_pydict()
    keep = [all(actions[f"partition.{key}"][i] == value for key, value in partition.items())
            for i in range(len(actions["num_records"]))]
    return int(sum(n or 0 for n, wanted in zip(actions["num_records"], keep) if wanted))


def read_partition(table_uri: str, partition: dict[str, str], columns: list[str] | None = None,
                   storage_options: dict[str, str] | None = None) -> pl.DataFrame:
    """Rows of one partition (partition pruning: only that partition's files are read)."""
    frames = list(iter_partition_batches(table_uri, partition, columns, 100_000, storage_options))
    if frames:
        return pl.concat(frames)
    schema = DeltaTable(table_uri, storage_options=storage_options or None).to_pyarrow_dataset().schema
    empty = pl.from_arrow(schema.empty_table())
    return empty.select(columns) if columns else empty  # type: ignore[union-attr,return-value]


def partition_files(table_uri: str, partition: dict[str, str], storage_options: dict[str, str] | None = None) -> list[str]:
    """URIs of the Parquet files holding one partition, from the Delta log."""
    dt = DeltaTable(table_uri, storage_options=storage_options or None)
    return dt.file_uris(file_pruning_predicate=[(k, "=", v) for k, v in partition.items()])


def iter_file_batches(files: list[str], partition: dict[str, str], columns: list[str] | None = None,
                      batch_rows: int = 5000) -> Iterator[pl.DataFrame]:
    """Stream a partition's files as Polars frames of at most `batch_rows` rows (bounded memory).

    pyarrow alone reads the files, so this can feed a delta-rs writer (which must not call back into
    delta-rs while it consumes the stream). Partition columns are added back as constants.
    """
    file_columns = None if columns is None else [c for c in columns if c not in partition]
    for batch in _parquet_batches(files, file_columns, batch_rows):
        if batch.num_rows:
            frame = pl.from_arrow(batch).with_columns(pl.lit(v, pl.String).alias(k) for k, v in partition.items())  # type: ignore[union-attr]
            yield frame.select(columns) if columns else frame


def _parquet_batches(files: list[str], columns: list[str] | None, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Record batches of Parquet files, one file after the other, streamed page by page: neither a dataset
    scanner (which reads ahead several files) nor pre-buffering (which loads a whole row group) holds more
    than a batch. The files of one partition come from one write, so they share a schema."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    if not files:
        return
    dataset = ds.dataset(files, format="parquet")  # resolves URIs to a filesystem, as delta-rs wrote them
    for path in dataset.files:
        with dataset.filesystem.open_input_file(path) as source:
            reader = pq.ParquetFile(source, pre_buffer=False, buffer_size=READ_BUFFER_BYTES)
            yield from reader.iter_batches(batch_size=batch_rows, columns=columns)


def iter_partition_batches(table_uri: str, partition: dict[str, str], columns: list[str] | None = None,
                           batch_rows: int = 5000, storage_options: dict[str, str] | None = None) -> Iterator[pl.DataFrame]:
    """Stream one partition of a table as Polars frames (see `iter_file_batches`)."""
    files = partition_files(table_uri, partition, storage_options)
    yield from iter_file_batches(files, partition, columns, batch_rows)


def transform_partition(source_uri: str, target_uri: str, partition: dict[str, str],
                        transform: Callable[[pl.DataFrame], pl.DataFrame], columns: list[str] | None = None,
                        batch_rows: int = 5000, storage_options: dict[str, str] | None = None) -> int:
    """Replace `partition` of the target table with `transform` applied batch by batch to the source's
    partition; returns rows written. The transform must keep the partition columns and accept empty frames."""
    written = 0
    files = partition_files(source_uri, partition, storage_options)

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal written
        written = 0
        for frame in iter_file_batches(files, partition, columns, batch_rows):
            out = transform(frame)
            written += out.height
            yield from out.to_arrow().cast(schema).to_batches()

    empty = pl.from_arrow(DeltaTable(source_uri, storage_options=storage_options or None)
                          .to_pyarrow_dataset().schema.empty_table())
    if columns:
        empty = empty.select(columns)  # type: ignore[union-attr]
    schema = transform(empty).to_arrow().schema  # type: ignore[arg-type]
    replace_partition(target_uri, batches, schema, partition, storage_options)
    return written


def partition_fingerprints(table_uri: str, storage_options: dict[str, str] | None = None) -> dict[str, str]:
    """{"crawl/shard": fingerprint of its data files}: a partition re-written gets a new fingerprint."""
    import hashlib

    actions = pl.DataFrame(pa.table(DeltaTable(table_uri, storage_options=storage_options or None)
                                    .get_add_actions(flatten=True)))
    files: dict[str, list[str]] = {}
    for path, crawl, shard in actions.select("path", "partition.crawl", "partition.shard").iter_rows():
        files.setdefault(f"{crawl}/{shard}", []).append(path)
    return {key: hashlib.sha1("\n".join(sorted(paths)).encode()).hexdigest()[:16] for key, paths in files.items()}


def overwrite_table(table_uri: str, parquet_files: list[str], storage_options: dict[str, str] | None = None) -> int:
    """Replace a whole (unpartitioned) table with the rows of Parquet files, streamed; returns rows."""
    import pyarrow.parquet as pq

    rows = 0

    def counted() -> Iterator[pa.RecordBatch]:
        nonlocal rows
        for batch in _parquet_batches(parquet_files, None, 65_536):
            rows += batch.num_rows
            yield batch

    batches, properties = _sized_row_groups(counted())
    write_deltalake(table_uri, pa.RecordBatchReader.from_batches(pq.read_schema(parquet_files[0]), batches),
                    mode="overwrite", schema_mode="overwrite", storage_options=storage_options or None,
                    writer_properties=properties)
    return rows


def replace_partition_frame(table_uri: str, frame: pl.DataFrame, partition: dict[str, str],
                            storage_options: dict[str, str] | None = None) -> None:
    """`replace_partition` for a frame already in memory."""
    table = frame.to_arrow()
    replace_partition(table_uri, lambda: iter(table.to_batches()), table.schema, partition, storage_options)


def replace_table_frame(table_uri: str, frame: pl.DataFrame, storage_options: dict[str, str] | None = None) -> None:
    """Replace a whole (unpartitioned) table with a frame in memory, in one transaction."""
    write_deltalake(table_uri, frame.to_arrow(), mode="overwrite", schema_mode="overwrite",
                    storage_options=storage_options or None)
