"""DuckDB with its `delta` extension, loaded from the file the `duckdb-extension-delta` wheel ships
(nothing downloads; the extension's version must match duckdb's).

DuckDB checks an extension's signature at every LOAD by hashing the whole file (82 MB, ~0.25 CPU-s), and
each DuckDB database loads it anew: one `corpus materialize` opens six or more (the dedup steps, the SQL
views). So the first load in a process is a signed one, which DuckDB verifies, and the databases opened
after it load the same, unchanged file (same inode, size and modification time) with unsigned loading
allowed, which skips the hash (~0.01 CPU-s). A database opened with it allowed refuses a file that is
not the verified one.
"""
from __future__ import annotations

import glob
import os

import duckdb

__all__ = ["connect", "extension_path", "load_delta"]

_verified: set[tuple[str, int, int, int]] = set()  # (path, inode, size, mtime) of files DuckDB verified here


def extension_path() -> str:
    """The extension file for the installed duckdb (FileNotFoundError if the wheel has none for it)."""
    import duckdb_extension_delta

    root = os.path.dirname(duckdb_extension_delta.__file__)
    matches = glob.glob(os.path.join(root, "extensions", f"v{duckdb.__version__}", "delta.duckdb_extension"))
    if not matches:
        raise FileNotFoundError(f"no delta extension for duckdb {duckdb.__version__} under {root} (versions must match)")
    return matches[0]


def _identity(path: str) -> tuple[str, int, int, int]:
    stat = os.stat(path)
    return path, stat.st_ino, stat.st_size, stat.st_mtime_ns


def _verified_file() -> bool:
    try:
        return _identity(extension_path()) in _verified
    except (ImportError, OSError):
        return False


def connect(database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """`duckdb.connect(database)`, ready for `load_delta`: once this process has verified the extension
    file, the database may load it unsigned (DuckDB fixes that setting when a database opens)."""
    return duckdb.connect(database, config={"allow_unsigned_extensions": "true"} if _verified_file() else {})


def load_delta(con: duckdb.DuckDBPyConnection) -> None:
    """Load the extension into `con` (FileNotFoundError, ImportError or duckdb.Error if it cannot be)."""
    path = extension_path()
    identity = _identity(path)
    unsigned = con.execute("SELECT current_setting('allow_unsigned_extensions')").fetchone()[0]  # type: ignore[index]
    if unsigned and identity not in _verified:
        raise duckdb.InvalidInputException(f"{path} is not the extension file verified in this process")
    con.execute(f"LOAD '{path}'")
    if not unsigned:  # DuckDB checked its signature
        _verified.add(identity)
