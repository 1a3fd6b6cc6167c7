"""Boilerplate lines counted per host across every shard of a crawl, and the text MinHash sees.

A host's pages are spread over many shards, so a template line is rarely in three pages of one shard.
Each shard stores how many of its documents hold each (host, line) (`host_line_counts`, like the band
index); a line is boilerplate for a host when the counts of all shards of the crawl reach `min_docs`.
A shard hashed before other shards of its crawl arrived may have missed lines that are boilerplate by
now: `stale_boilerplate_shards` names those shards, and re-hashing them picks up the crawl's counts.

MinHash then skips link-like lines (short lines without sentence punctuation: menus, related-link lists,
tag clouds) when the document has enough prose without them, so a related-links block that changes
from page to page cannot dominate a short article's shingles.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

import polars as pl
import pyarrow as pa

from corpus_assets.core.dedup.clustering import DedupDB, Source, _sql_str
from corpus_assets.core.dedup.text import _doc_line_set, remove_boilerplate_lines

COUNT_COLUMNS = ["url_host", "line_hash", "docs"]
_SENTENCE_END = re.compile(r"[.!?;:。！？；…」』\"')\]]\s*$")
_WORD = re.compile(r"\w+")
LINK_LINE_MAX_WORDS = 12  # a link or menu label; a sentence of prose is longer or ends with punctuation
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def doc_line_pairs(batch: pl.DataFrame, keep_digits: bool = False) -> pl.DataFrame:
    """`url_host, line_hash` once per document and distinct line (duplicate doc_ids counted once)."""
    batch = batch.select("doc_id", "url_host", "text").unique(subset=["doc_id"], keep="first", maintain_order=True)
    sets = [_doc_line_set(t, keep_digits) for t in batch["text"].to_list()]
    return (batch.select("url_host").with_columns(pl.Series("line_hash", sets, dtype=pl.List(pl.Int64)))
            .explode("line_hash").drop_nulls("line_hash"))


def count_host_lines(batches: Iterable[pl.DataFrame], db: DedupDB) -> pa.RecordBatchReader:
    """Pass 1: documents per (host, line) over `batches` of `doc_id, url_host, text`, aggregated in DuckDB
    (spills past its memory limit); streamed back as `url_host, line_hash, docs`."""
    con = db.con
    con.execute("CREATE OR REPLACE TABLE shard_lines (url_host VARCHAR, line_hash BIGINT)")
    for batch in batches:
        pairs = doc_line_pairs(batch).to_arrow()
        con.register("pairs__arrow", pairs)
        con.execute("INSERT INTO shard_lines SELECT url_host, line_hash FROM pairs__arrow")
        con.unregister("pairs__arrow")
    return con.execute("""SELECT url_host, line_hash, count(*)::INTEGER AS docs FROM shard_lines
                          GROUP BY url_host, line_hash ORDER BY url_host, line_hash""").to_arrow_reader(100_000)


def crawl_boilerplate(db: DedupDB, crawl_counts: Source, crawl: str, shard: str, min_docs: int) -> pl.DataFrame:
    """`url_host, line_hash` of the lines of `shard` whose documents over every shard of `crawl` in
    `crawl_counts` (the `host_line_counts` table, this shard's rows included) reach `min_docs`."""
    view = db.register("crawl_counts", crawl_counts)
    found = db.con.execute(f"""
        WITH mine AS (SELECT url_host, line_hash FROM {view} WHERE crawl = {_sql_str(crawl)} AND shard = {_sql_str(shard)})
        SELECT c.url_host, c.line_hash FROM {view} c SEMI JOIN mine USING (url_host, line_hash)
        WHERE c.crawl = {_sql_str(crawl)}
        GROUP BY c.url_host, c.line_hash HAVING sum(c.docs) >= {int(min_docs)}
        ORDER BY c.url_host, c.line_hash""").to_arrow_table()
    return pl.DataFrame(found).with_columns(pl.col("line_hash").cast(pl.Int64))


def stale_boilerplate_shards(counts: Source, boilerplate: Source, min_docs: int, memory_limit: str = "1GB") -> list[str]:
    """`crawl/shard` of shards holding a line that is boilerplate by the crawl's counts now but was not
    removed when the shard was hashed (other shards of its crawl arrived later): re-hash these."""
    with DedupDB(memory_limit) as db:
        c, b = db.register("counts", counts), db.register("used", boilerplate)
        rows = db.con.execute(f"""
            WITH common AS (SELECT crawl, url_host, line_hash FROM {c} GROUP BY ALL HAVING sum(docs) >= {int(min_docs)})
            SELECT DISTINCT s.crawl, s.shard FROM {c} s SEMI JOIN common USING (crawl, url_host, line_hash)
            ANTI JOIN {b} u USING (crawl, shard, url_host, line_hash)
            ORDER BY s.crawl, s.shard""").fetchall()
    return [f"{crawl}/{shard}" for crawl, shard in rows]


def _link_like(line: str) -> bool:
    stripped = line.strip()
    if not stripped or _SENTENCE_END.search(stripped):
        return False
    words = len(_CJK.findall(stripped)) // 2 + len(_WORD.findall(_CJK.sub(" ", stripped)))
    return words <= LINK_LINE_MAX_WORDS


def minhash_text(text: str | None, common: frozenset[int], min_prose_words: int = 50) -> tuple[str | None, int]:
    """The text MinHash sees: boilerplate lines removed, then link-like lines dropped when at least
    `min_prose_words` words (CJK: 2 characters count as one word) of other lines remain. Returns the
    text and the number of boilerplate lines removed."""
    if not text:
        return text, 0
    text, removed = remove_boilerplate_lines(text, common)
    lines = text.split("\n")
    prose = [line for line in lines if not _link_like(line)]
    if len(prose) < len(lines):
        body = "\n".join(prose)
        if len(_CJK.findall(body)) // 2 + len(_WORD.findall(_CJK.sub(" ", body))) >= min_prose_words:
            return body, removed
    return text, removed
