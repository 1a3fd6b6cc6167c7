"""Where an imported file lives in the warehouse, with the settings it was imported with.

`corpus import` copies the file to `<warehouse>/_imports/<source>/<hash>/<file name>` and writes
`import.json` beside it. The `documents` asset reads both from there, so a partition can be re-run
later (from the UI, on another machine, after the original file moved) and reads the very bytes its
key names. Nothing in `import.json` depends on when or from where the file was imported.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow.fs as pafs

from corpus_assets.core import hashing
from corpus_assets.core.imports.keys import COMMON_CRAWL_SOURCE, HASH_CHARS, ImportShard, check_source_name

IMPORTS_FOLDER = "_imports"
SPEC_FILE = "import.json"
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")


class ImportFileError(ValueError):
    """A file that cannot be imported as asked (one line for the user)."""


@dataclass(frozen=True)
class ImportSpec:
    source: str
    file_name: str  # the imported file's base name (rows cite it as their `warc_path`)
    file_sha256: str
    file_bytes: int
    format: str  # "jsonl" or "parquet"
    text_field: str = "text"
    id_field: str = "id"
    synthetic: bool = False
    generator: str | None = None

    @property
    def shard(self) -> ImportShard:
        return ImportShard(self.source, self.file_sha256[:HASH_CHARS])

    @property
    def key(self) -> str:
        return self.shard.key

    def origin(self) -> dict:
        """The corpus columns that say where the rows came from."""
        return {"source": self.source, "synthetic": self.synthetic, "generator": self.generator}


CRAWLED_ORIGIN = {"source": COMMON_CRAWL_SOURCE, "synthetic": False, "generator": None}


def filesystem_of(uri: str) -> tuple[pafs.FileSystem, str]:
    """pyarrow's filesystem and path for a local path (relative ones too) or an object-store URI."""
    if "://" not in uri:
        return pafs.LocalFileSystem(), str(Path(uri).resolve())
    return pafs.FileSystem.from_uri(uri)


def file_format(path: str | Path) -> str:
    name = str(path).lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    raise ImportFileError(f"{path}: unknown file type; import JSON Lines ({', '.join(JSONL_SUFFIXES)}) "
                       f"or Parquet ({', '.join(PARQUET_SUFFIXES)})")


def make_spec(path: str | Path, source: str, *, synthetic: bool = False, generator: str | None = None,
              text_field: str = "text", id_field: str = "id") -> ImportSpec:
    """Check what was asked and describe the file (its hash names the partition)."""
    path = Path(path)
    try:
        check_source_name(source)
    except ValueError as exc:
        raise ImportFileError(str(exc)) from None
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    if synthetic and not generator:
        raise ImportFileError("--synthetic needs --generator NAME (what made the text: a model, a script, a version)")
    if generator and not synthetic:
        raise ImportFileError("--generator is only for a synthetic source: add --synthetic")
    if not text_field or not id_field:
        raise ImportFileError("--text-field and --id-field must name a field")
    if text_field == id_field:
        raise ImportFileError(f"--text-field and --id-field are both {text_field!r}")
    digest, size = hashing.file_sha256(path), path.stat().st_size
    return ImportSpec(source=source, file_name=path.name, file_sha256=digest, file_bytes=size, format=file_format(path),
                      text_field=text_field, id_field=id_field, synthetic=synthetic, generator=generator or None)


def import_folder(warehouse: str, shard: ImportShard) -> str:
    return f"{warehouse.rstrip('/')}/{IMPORTS_FOLDER}/{shard.source}/{shard.file_hash}"


def staged_file(warehouse: str, spec: ImportSpec) -> str:
    return f"{import_folder(warehouse, spec.shard)}/{spec.file_name}"


def stage(warehouse: str, path: str | Path, spec: ImportSpec) -> str:
    """Copy the file into the warehouse (unless the same bytes are there) and write its `import.json`;
    returns the staged file's URI."""
    filesystem, folder = filesystem_of(import_folder(warehouse, spec.shard))
    filesystem.create_dir(folder, recursive=True)
    target = f"{folder}/{spec.file_name}"
    info = filesystem.get_file_info(target)
    if info.type != pafs.FileType.File or info.size != spec.file_bytes:
        local = pafs.LocalFileSystem()
        pafs.copy_files(str(Path(path).resolve()), target, source_filesystem=local, destination_filesystem=filesystem)
    with filesystem.open_output_stream(f"{folder}/{SPEC_FILE}") as stream:
        stream.write((json.dumps(asdict(spec), indent=1, sort_keys=True) + "\n").encode())
    return staged_file(warehouse, spec)


def read_spec(warehouse: str, shard: ImportShard) -> ImportSpec:
    """The settings a partition was imported with (a clear error when the warehouse has none)."""
    uri = f"{import_folder(warehouse, shard)}/{SPEC_FILE}"
    filesystem, path = filesystem_of(uri)
    if filesystem.get_file_info(path).type != pafs.FileType.File:
        raise ImportFileError(f"partition {shard.key}: no {uri}; import the file again with `corpus import`")
    with filesystem.open_input_stream(path) as stream:
        spec = ImportSpec(**json.loads(stream.read().decode("utf-8")))
    if spec.shard != shard:
        raise ImportFileError(f"{uri} describes {spec.key}, not {shard.key}")
    return spec


def origin_of(warehouse: str, shard) -> dict:
    """`source`, `synthetic`, `generator` of a partition's corpus rows: crawled, or as imported."""
    if isinstance(shard, ImportShard):
        return read_spec(warehouse, shard).origin()
    return dict(CRAWLED_ORIGIN)
