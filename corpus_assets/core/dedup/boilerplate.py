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
from collections.abc import Iterable, Iterator

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from corpus_assets.core.dedup.clustering import DedupDB, Source, _sql_str
from corpus_assets.core.dedup.text import remove_boilerplate_lines, text_and_line_hashes

COUNT_COLUMNS = ["url_host", "line_hash", "docs"]
HASHES_SCHEMA = pa.schema([("doc_id", pa.string()), ("text_hash", pa.int64()), ("line_hashes", pa.list_(pa.int64()))])
_SENTENCE_END = frozenset(".!?;:。！？；…」』\"')]")  # the last character of a line that ends a sentence
_WORD = re.compile(r"\w+")
LINK_LINE_MAX_WORDS = 12  # a link or menu label; a sentence of prose is longer or ends with punctuation
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
# matches (at the start) a line of more than LINK_LINE_MAX_WORDS words; possessive, so one linear pass
_OVER_MAX_WORDS = re.compile(r"\W*+(?:\w++\W++){%d}\w" % LINK_LINE_MAX_WORDS)


def document_hashes(batch: pl.DataFrame) -> pl.DataFrame:
    """`doc_id, text_hash, line_hashes` per row of `batch` (`doc_id, text`): one normalisation per text."""
    hashes = [text_and_line_hashes(t) for t in batch["text"].to_list()]
    return pl.DataFrame([batch["doc_id"], pl.Series("text_hash", [h for h, _ in hashes], dtype=pl.Int64),
                         pl.Series("line_hashes", [lines for _, lines in hashes], dtype=pl.List(pl.Int64))])


def doc_line_pairs(batch: pl.DataFrame, hashes: pl.DataFrame) -> pl.DataFrame:
    """`url_host, line_hash` once per document and distinct line (duplicate doc_ids counted once), from the
    `document_hashes` of `batch` (`doc_id, url_host`)."""
    return (batch.select("doc_id", "url_host").with_columns(hashes["line_hashes"])
            .unique(subset=["doc_id"], keep="first", maintain_order=True)
            .explode("line_hashes").filter(pl.col("line_hashes") != 0)
            .unique(subset=["doc_id", "line_hashes"]).select("url_host", line_hash="line_hashes"))


def count_host_lines(batches: Iterable[pl.DataFrame], db: DedupDB, hashes_path: str | None = None
                     ) -> pa.RecordBatchReader:
    """Pass 1: documents per (host, line) over `batches` of `doc_id, url_host, text`, aggregated in DuckDB
    (spills past its memory limit); streamed back as `url_host, line_hash, docs`. With `hashes_path`, the
    `document_hashes` of every row go to that Parquet file, in order, for pass 2 (`DocumentHashes`): the
    texts are normalised once, not once per pass."""
    con = db.con
    con.execute("CREATE OR REPLACE TABLE shard_lines (url_host VARCHAR, line_hash BIGINT)")
    writer = pq.ParquetWriter(hashes_path, HASHES_SCHEMA) if hashes_path else None
    try:
        for batch in batches:
            hashes = document_hashes(batch)
            if writer:
                writer.write_table(hashes.to_arrow().cast(HASHES_SCHEMA))
            pairs = doc_line_pairs(batch, hashes).to_arrow()
            con.register("pairs__arrow", pairs)
            con.execute("INSERT INTO shard_lines SELECT url_host, line_hash FROM pairs__arrow")
            con.unregister("pairs__arrow")
    finally:
        if writer:
            writer.close()
    return con.execute("""SELECT url_host, line_hash, count(*)::INTEGER AS docs FROM shard_lines
                          GROUP BY url_host, line_hash ORDER BY url_host, line_hash""").to_arrow_reader(100_000)


class DocumentHashes:
    """Pass 2's view of the hashes pass 1 wrote: `take(docs)` gives the next `docs.height` rows when their
    doc_ids are those of `docs` (same rows, same order), else None (the caller hashes the texts itself)."""

    def __init__(self, path: str | None, batch_rows: int = 5000):
        self._batches: Iterator[pa.RecordBatch] = (
            pq.ParquetFile(path).iter_batches(batch_rows) if path else iter(()))
        self._buffer: pl.DataFrame | None = None

    def take(self, docs: pl.DataFrame) -> pl.DataFrame | None:
        parts, need = [], docs.height
        while need:
            if self._buffer is None or not self._buffer.height:
                batch = next(self._batches, None)
                if batch is None:
                    return None
                self._buffer = pl.DataFrame(pl.from_arrow(batch))
            part, self._buffer = self._buffer.head(need), self._buffer.slice(need)
            parts.append(part)
            need -= part.height
        if not parts:
            return None
        rows = pl.concat(parts)
        return rows if rows["doc_id"].equals(docs["doc_id"]) else None


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


def _words(line: str) -> int:
    """Words of a line: runs of word characters, CJK characters counting half a word each (before the
    halving, which the caller does once over the lines it sums)."""
    if line.isascii() or not _CJK.search(line):
        return 2 * len(_WORD.findall(line))
    return len(_CJK.findall(line)) + 2 * len(_WORD.findall(_CJK.sub(" ", line)))


def _link_like(line: str) -> bool:
    stripped = line.rstrip()
    if not stripped or stripped[-1] in _SENTENCE_END:
        return False
    if stripped.isascii() or not _CJK.search(stripped):  # words are the \w runs: only "more than the most?" matters
        return _OVER_MAX_WORDS.match(stripped) is None
    return _words(stripped) // 2 <= LINK_LINE_MAX_WORDS


def _has_prose_words(lines: list[str], min_words: int) -> bool:
    """At least `min_words` words in `lines` together (CJK: 2 characters count as one word)."""
    counted, goal = 0, 2 * min_words
    for line in lines:
        if line:
            counted += _words(line)
            if counted >= goal:
                return True
    return False


def minhash_text(text: str | None, common: frozenset[int], min_prose_words: int = 50,
                 hashes: list[int] | None = None) -> tuple[str | None, int]:
    """The text MinHash sees: boilerplate lines removed, then link-like lines dropped when at least
    `min_prose_words` words (CJK: 2 characters count as one word) of other lines remain. Returns the
    text and the number of boilerplate lines removed. `hashes`: the text's `line_hashes`, if known."""
    if not text:
        return text, 0
    text, removed = remove_boilerplate_lines(text, common, hashes=hashes)
    lines = text.split("\n")
    prose = [line for line in lines if not _link_like(line)]
    if len(prose) < len(lines) and _has_prose_words(prose, min_prose_words):
        return "\n".join(prose), removed
    return text, removed
