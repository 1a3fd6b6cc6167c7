"""Export a built mixture as training shards: Parquet, JSON Lines, or token ids.

Layout of `out_dir` (one folder per stage, in curriculum order)::

    manifest.json                     the build's manifest
    index.json                        format, shuffle rule, and every file with rows, bytes and sha256
    00-<stage>/shard-00000.parquet    (or .jsonl, or .npy + .csv.gz for tokens)

Rows are shuffled within each stage by the hex MD5 of `seed␟mixture␟stage␟shuffle␟doc_id␟copy`, and
written `shard_rows` to a shard, with fixed writer settings (Parquet: zstd level 3, row groups of
10,000 rows) and no timestamps anywhere, so exporting the same build twice gives identical bytes.

`tokens`: the spec's tokenizer.json encodes each document (no special tokens; its end-of-text token, if
the vocabulary has one, is appended after each document). As Dolma writes them and OLMo reads them,
`shard-NNNNN.npy` is a raw little-endian memmap of the concatenated ids (`np.memmap(path, dtype)`: no
.npy header), `uint16` when the vocabulary has at most 65,536 entries, else `uint32`, and
`shard-NNNNN.csv.gz` indexes its documents: `start,end,id,source,copy` (offsets into the ids, end
exclusive, the end-of-text token included), like Megatron's document index.
"""
from __future__ import annotations

import gzip
import io
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from corpus_assets.core.hashing import file_sha256
from corpus_assets.core.mixtures.inputs import CorpusSnapshot
from corpus_assets.core.mixtures.manifest import manifest_bytes
from corpus_assets.core.mixtures.spec import MixtureSpec
from corpus_assets.core.mixtures.tokens import HFTokenizer

FORMATS = ("parquet", "jsonl", "tokens")
ROW_GROUP_ROWS = 10_000
TOKENIZE_BATCH_ROWS = 1_000
PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 3, "use_dictionary": True, "write_statistics": True,
                   "version": "2.6", "data_page_version": "1.0"}
OPTIONAL_COLUMNS = ("lang", "url")  # copied from corpus when it has them


class ExportError(RuntimeError):
    """An export cannot be written as asked (one line)."""


@dataclass
class ExportResult:
    out_dir: Path
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(item["bytes"] for item in self.files)

    @property
    def rows(self) -> int:
        return sum(item["rows"] for item in self.files)


def export_mixture(rows: pl.DataFrame, corpus: CorpusSnapshot, spec: MixtureSpec, manifest: dict[str, Any],
                   out_dir: str | Path, fmt: str = "parquet", shard_rows: int = 100_000) -> ExportResult:
    """Write the mixture's rows (with their corpus text) as shuffled shards under `out_dir`, replacing an
    earlier export there. `corpus` must be the version the build read (the manifest says which)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    if shard_rows < 1:
        raise ExportError(f"--shard-rows must be at least 1, got {shard_rows}")
    built_on = manifest["inputs"]["corpus"]["delta_version"]
    if corpus.version != built_on:
        raise ExportError(f"mixture {spec.name} was built on corpus version {built_on}, "
                          f"but the corpus given is version {corpus.version}")
    tokenizer = None
    if fmt == "tokens":
        if spec.tokenizer_path is None:
            raise ExportError(f"{spec.origin}: tokenizer: the tokens format needs a tokenizer.json, not 'approx'")
        tokenizer = HFTokenizer(spec.tokenizer_path)
    out = _fresh_folder(Path(out_dir))
    result = ExportResult(out)
    for stage_index, stage in enumerate(spec.plan()):
        stage_rows = rows.filter(pl.col("stage") == stage.name)
        folder = out / f"{stage_index:02d}-{stage.name}"
        stream = _RowStream(_shuffled_with_text(corpus, spec, stage.name, stage_rows))
        written = (_write_tokens(stream, folder, shard_rows, tokenizer, stage.name) if tokenizer else
                   _write_rows(stream, folder, shard_rows, fmt, stage.name))
        if sum(item["rows"] for item in written) != stage_rows.height:
            raise ExportError(f"mixture {spec.name}, stage {stage.name}: {stage_rows.height} rows but only "
                              f"{sum(item['rows'] for item in written)} have a document in corpus version {built_on}")
        result.files.extend(written)
    for item in result.files:
        for key in ("path", "index"):
            if key in item:
                item[key] = str(Path(item[key]).relative_to(out))
    (out / "manifest.json").write_bytes(manifest_bytes(manifest))
    index = {"mixture": spec.name, "spec_hash": spec.spec_hash, "format": fmt, "shard_rows": shard_rows,
             "shuffle": "within each stage by md5(seed, mixture, stage, 'shuffle', doc_id, copy)",
             **(_tokens_header(tokenizer, spec) if tokenizer else {}), "files": result.files}
    (out / "index.json").write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


def _fresh_folder(out: Path) -> Path:
    if out.exists():
        if any(out.iterdir()) and not (out / "index.json").is_file():
            raise ExportError(f"{out} is not empty and holds no earlier export (index.json); choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    return out


def _shuffled_with_text(corpus: CorpusSnapshot, spec: MixtureSpec, stage: str,
                        stage_rows: pl.DataFrame) -> pa.RecordBatchReader:
    con = corpus.con
    con.register("export_rows", stage_rows.select("doc_id", "copy", "source", "synthetic", "n_tokens"))
    for name, value in (("export_seed", str(spec.seed)), ("export_mixture", spec.order_name), ("export_stage", stage)):
        con.execute(f"SET VARIABLE {name} = ?", [value])
    extra = "".join(f"c.{column}, " for column in OPTIONAL_COLUMNS if column in corpus.columns)
    # no prepared parameters here: DuckDB streams this relation instead of materialising it first
    return con.sql(f"""
        SELECT r.doc_id, r.copy, r.source, getvariable('export_stage') AS stage, r.synthetic, r.n_tokens, {extra}c.text
        FROM export_rows r JOIN corpus c USING (doc_id)
        ORDER BY md5(concat_ws(chr(31), getvariable('export_seed'), getvariable('export_mixture'),
                               getvariable('export_stage'), 'shuffle', r.doc_id, r.copy::VARCHAR)),
                 r.doc_id, r.copy""").to_arrow_reader(ROW_GROUP_ROWS)


class _RowStream:
    """Exactly-sized slices of a record batch stream, whatever sizes the batches come in."""

    def __init__(self, reader: pa.RecordBatchReader):
        self.schema = reader.schema
        self._batches = iter(reader)
        self._buffer: list[pa.RecordBatch] = []
        self._buffered = 0

    def take(self, n: int) -> pa.Table | None:
        while self._buffered < n:
            batch = next(self._batches, None)
            if batch is None:
                break
            self._buffer.append(batch)
            self._buffered += batch.num_rows
        if not self._buffered:
            return None
        table = pa.Table.from_batches(self._buffer, self.schema)
        rest = table.slice(n)
        self._buffer, self._buffered = rest.to_batches(), rest.num_rows
        return table.slice(0, n).combine_chunks()


def _shards(stream: _RowStream, shard_rows: int, piece_rows: int) -> Iterator[Iterator[pa.Table]]:
    """Shards as iterators of pieces (at most `piece_rows` rows), each shard `shard_rows` rows but the last."""
    first = stream.take(min(piece_rows, shard_rows))

    def pieces(head: pa.Table) -> Iterator[pa.Table]:
        left = shard_rows - head.num_rows
        yield head
        while left > 0:
            piece = stream.take(min(piece_rows, left))
            if piece is None or not piece.num_rows:
                return
            left -= piece.num_rows
            yield piece

    while first is not None and first.num_rows:
        yield pieces(first)
        first = stream.take(min(piece_rows, shard_rows))


def _write_rows(stream: _RowStream, folder: Path, shard_rows: int, fmt: str, stage: str) -> list[dict[str, Any]]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for number, pieces in enumerate(_shards(stream, shard_rows, ROW_GROUP_ROWS)):
        path = folder / f"shard-{number:05d}.{fmt}"
        rows = 0
        if fmt == "parquet":
            with pq.ParquetWriter(path, stream.schema, **PARQUET_OPTIONS) as writer:
                for piece in pieces:
                    writer.write_table(piece, row_group_size=ROW_GROUP_ROWS)
                    rows += piece.num_rows
        else:
            with open(path, "wb") as handle:
                for piece in pieces:
                    buffer = io.BytesIO()
                    pl.from_arrow(piece).write_ndjson(buffer)  # type: ignore[union-attr]
                    handle.write(buffer.getvalue())
                    rows += piece.num_rows
        written.append(_file_entry(path, stage, rows))
    return written


def _write_tokens(stream: _RowStream, folder: Path, shard_rows: int, tokenizer: HFTokenizer,
                  stage: str) -> list[dict[str, Any]]:
    folder.mkdir(parents=True, exist_ok=True)
    dtype = _token_dtype(tokenizer)
    written = []
    for number, pieces in enumerate(_shards(stream, shard_rows, TOKENIZE_BATCH_ROWS)):
        ids_path, index_path = folder / f"shard-{number:05d}.npy", folder / f"shard-{number:05d}.csv.gz"
        index_lines = ["start,end,id,source,copy\n"]
        offset = rows = 0
        with open(ids_path, "wb") as handle:
            for piece in pieces:
                encoded = tokenizer.encode(piece.column("text").to_pylist())
                for ids, doc_id, source, copy in zip(encoded, piece.column("doc_id").to_pylist(),
                                                     piece.column("source").to_pylist(),
                                                     piece.column("copy").to_pylist()):
                    if tokenizer.eos_id is not None:
                        ids = [*ids, tokenizer.eos_id]
                    np.asarray(ids, dtype=dtype).tofile(handle)
                    index_lines.append(f"{offset},{offset + len(ids)},{doc_id},{source},{copy}\n")
                    offset += len(ids)
                rows += piece.num_rows
        with open(index_path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as handle:
            handle.write("".join(index_lines).encode("utf-8"))
        entry = _file_entry(ids_path, stage, rows)
        entry.update(tokens=offset, index=str(index_path), index_sha256=file_sha256(index_path))
        written.append(entry)
    return written


def _token_dtype(tokenizer: HFTokenizer) -> np.dtype:
    return np.dtype("<u2") if tokenizer.vocab_size <= 1 << 16 else np.dtype("<u4")


def _tokens_header(tokenizer: HFTokenizer, spec: MixtureSpec) -> dict[str, Any]:
    dtype = _token_dtype(tokenizer)
    return {"tokenizer": spec.tokenizer_id, "dtype": "uint16" if dtype.itemsize == 2 else "uint32",
            "byte_order": "little", "vocab_size": tokenizer.vocab_size, "eos_id": tokenizer.eos_id,
            "index_columns": ["start", "end", "id", "source", "copy"]}


def _file_entry(path: Path, stage: str, rows: int) -> dict[str, Any]:
    return {"path": str(path), "stage": stage, "rows": rows, "bytes": path.stat().st_size, "sha256": file_sha256(path)}
