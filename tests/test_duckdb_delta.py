"""DuckDB's delta extension: verified by DuckDB once per process, loaded without re-hashing afterwards,
never a file other than the verified one, and no door to other extensions from a sandboxed connection."""
import shutil

import duckdb
import polars as pl
import pytest

from corpus_assets.core.lake import duckdb_delta
from corpus_assets.core.lake.sql import connect


@pytest.fixture
def table(tmp_path):
    pl.DataFrame({"doc_id": ["a", "b", "c"], "n": [1, 2, 3]}).write_delta(tmp_path / "t")
    duckdb_delta.load_delta(duckdb_delta.connect())  # whatever ran before: the file is verified now
    return str(tmp_path / "t")


def test_after_one_verified_load_later_databases_load_the_same_file_unsigned(table):
    con = duckdb_delta.connect()
    assert con.execute("SELECT current_setting('allow_unsigned_extensions')").fetchone()[0] is True
    duckdb_delta.load_delta(con)
    assert con.execute(f"SELECT sum(n) FROM delta_scan('{table}')").fetchone()[0] == 6


def test_an_unsigned_load_refuses_a_file_other_than_the_verified_one(table, tmp_path, monkeypatch):
    copy = tmp_path / "delta.duckdb_extension"
    shutil.copyfile(duckdb_delta.extension_path(), copy)  # same bytes, another file
    con = duckdb_delta.connect()
    monkeypatch.setattr(duckdb_delta, "extension_path", lambda: str(copy))
    with pytest.raises(duckdb.Error, match="not the extension file verified"):
        duckdb_delta.load_delta(con)
    signed = duckdb_delta.connect()  # a database opened now checks the copy's signature itself, then loads it
    assert signed.execute("SELECT current_setting('allow_unsigned_extensions')").fetchone()[0] is False
    duckdb_delta.load_delta(signed)
    assert signed.execute(f"SELECT sum(n) FROM delta_scan('{table}')").fetchone()[0] == 6


def test_a_sandboxed_connection_loads_no_other_extension(table, tmp_path):
    warehouse = tmp_path / "warehouse"
    shutil.copytree(table, warehouse / "signals")
    shutil.copyfile(duckdb_delta.extension_path(), warehouse / "other.duckdb_extension")
    con = connect(str(warehouse))
    assert con.execute("SELECT current_setting('allow_unsigned_extensions')").fetchone()[0] is True
    with pytest.raises(duckdb.Error, match="disabled"):
        con.execute(f"LOAD '{warehouse / 'other.duckdb_extension'}'")
