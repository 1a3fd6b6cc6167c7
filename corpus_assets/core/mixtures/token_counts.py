"""Token counts per document for a build: computed once per (tokenizer, document) and cached in Delta.

Only documents that some source of the spec matches are counted. `approx` counts run inside DuckDB
(the text never reaches Python); a tokenizer.json needs the text in Python, streamed in batches.
The optional cache is a Delta table (`tokenizer, doc_id, n_chars, n_tokens`, partitioned by
`tokenizer`); `n_chars` is part of the key, so a document whose text changed is counted again.
"""
from __future__ import annotations

import duckdb
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import TableNotFoundError

from corpus_assets.core.mixtures.predicate import as_condition
from corpus_assets.core.mixtures.spec import MixtureSpec
from corpus_assets.core.mixtures.tokens import HFTokenizer, approx_tokens_sql

CACHE_SCHEMA = pa.schema([("tokenizer", pa.string()), ("doc_id", pa.string()), ("n_chars", pa.int64()),
                          ("n_tokens", pa.int64())])
TEXT_BATCH_ROWS = 2000


def prepare_mixture_input(con: duckdb.DuckDBPyConnection, spec: MixtureSpec, cache_uri: str | None = None,
                          storage_options: dict[str, str] | None = None) -> dict[str, int]:
    """Create the view `mixture_input` (corpus + `n_tokens`) for the documents the spec's sources match.
    Returns {"counted": documents counted now, "cached": documents whose count came from the cache}."""
    predicates = " OR ".join(as_condition(source.where) for stage in spec.plan() for source in stage.sources)
    n_chars = "n_chars" if "n_chars" in _columns(con, "corpus") else "length(text)"
    con.execute(f"CREATE OR REPLACE TEMP TABLE mixture_needed AS "
                f"SELECT doc_id, {n_chars}::BIGINT AS n_chars FROM corpus WHERE {predicates}")
    tokenizer_id = spec.tokenizer_id
    cached = _register_cache(con, cache_uri, tokenizer_id, storage_options)
    con.execute("""CREATE OR REPLACE TEMP TABLE mixture_to_count AS
                   SELECT n.doc_id, n.n_chars FROM mixture_needed n
                   ANTI JOIN mixture_cached c ON c.doc_id = n.doc_id AND c.n_chars = n.n_chars""")
    counts = _count(con, spec, n_chars)
    con.register("mixture_new_counts", counts)
    if cache_uri and counts.num_rows:
        write_deltalake(cache_uri, counts, mode="append", partition_by=["tokenizer"],
                        storage_options=storage_options or None)
    con.execute("""CREATE OR REPLACE TEMP TABLE mixture_tokens AS
                   SELECT n.doc_id, any_value(t.n_tokens) AS n_tokens
                   FROM mixture_needed n
                   JOIN (SELECT doc_id, n_chars, n_tokens FROM mixture_cached
                         UNION ALL SELECT doc_id, n_chars, n_tokens FROM mixture_new_counts) t
                     ON t.doc_id = n.doc_id AND t.n_chars = n.n_chars
                   GROUP BY n.doc_id""")
    con.execute("""CREATE OR REPLACE TEMP VIEW mixture_input AS
                   SELECT c.*, t.n_tokens FROM corpus c JOIN mixture_tokens t USING (doc_id)""")
    return {"counted": counts.num_rows, "cached": cached}


def _columns(con: duckdb.DuckDBPyConnection, view: str) -> list[str]:
    return [name for name, *_ in con.sql(f"DESCRIBE {view}").fetchall()]


def _register_cache(con: duckdb.DuckDBPyConnection, cache_uri: str | None, tokenizer_id: str,
                    storage_options: dict[str, str] | None) -> int:
    table = None
    if cache_uri:
        try:
            table = DeltaTable(cache_uri, storage_options=storage_options or None)
        except TableNotFoundError:
            table = None
    if table is None:
        con.register("mixture_cache_rows", CACHE_SCHEMA.empty_table())
    else:
        con.register("mixture_cache_rows", table.to_pyarrow_dataset())
    con.execute("""CREATE OR REPLACE TEMP TABLE mixture_cached AS
                   SELECT c.doc_id, c.n_chars, any_value(c.n_tokens) AS n_tokens
                   FROM mixture_cache_rows c SEMI JOIN mixture_needed n ON c.doc_id = n.doc_id
                   WHERE c.tokenizer = $tokenizer GROUP BY c.doc_id, c.n_chars""", {"tokenizer": tokenizer_id})
    return con.sql("SELECT count(*) FROM mixture_cached").fetchone()[0]  # type: ignore[index]


def _count(con: duckdb.DuckDBPyConnection, spec: MixtureSpec, n_chars: str) -> pa.Table:
    tokenizer_id = spec.tokenizer_id
    if spec.tokenizer_path is None:
        return con.execute(f"""SELECT $tokenizer AS tokenizer, c.doc_id, {n_chars}::BIGINT AS n_chars,
                                      ({approx_tokens_sql('c.text')})::BIGINT AS n_tokens
                               FROM corpus c SEMI JOIN mixture_to_count m ON c.doc_id = m.doc_id""",
                           {"tokenizer": tokenizer_id}).to_arrow_table().cast(CACHE_SCHEMA)
    tokenizer = HFTokenizer(spec.tokenizer_path)
    reader = con.sql(f"""SELECT c.doc_id, {n_chars}::BIGINT AS n_chars, c.text
                         FROM corpus c SEMI JOIN mixture_to_count m ON c.doc_id = m.doc_id""").to_arrow_reader(
        TEXT_BATCH_ROWS)  # streamed: the texts never all sit in memory
    doc_ids: list[str] = []
    chars: list[int] = []
    tokens: list[int] = []
    for batch in reader:
        doc_ids.extend(batch.column("doc_id").to_pylist())
        chars.extend(batch.column("n_chars").to_pylist())
        tokens.extend(tokenizer.count([text or "" for text in batch.column("text").to_pylist()]))
    return pa.table({"tokenizer": [tokenizer_id] * len(doc_ids), "doc_id": doc_ids, "n_chars": chars,
                     "n_tokens": tokens}, schema=CACHE_SCHEMA)
