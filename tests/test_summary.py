"""The crawl-wide summary asset: per crawl and language, documents, kept and in the corpus."""
import dagster as dg
import polars as pl

from corpus_assets.cli.instance import open_instance


def test_crawl_summary_matches_the_tables_and_renders_markdown(sample_warehouse):
    summary = pl.read_delta(str(sample_warehouse / "crawl_summary"))
    decisions = pl.read_delta(str(sample_warehouse / "decisions"), columns=["crawl", "lang", "keep"])
    corpus = pl.read_delta(str(sample_warehouse / "corpus"), columns=["crawl", "lang"])
    expected = (decisions.group_by("crawl", "lang").agg(documents=pl.len(), kept=pl.col("keep").sum())
                .join(corpus.group_by("crawl", "lang").agg(in_corpus=pl.len()), on=["crawl", "lang"], how="left")
                .with_columns(pl.col("in_corpus").fill_null(0)))
    assert summary.select("crawl", "lang", "documents", "kept", "in_corpus").sort("crawl", "lang").equals(
        expected.select("crawl", "lang", "documents", "kept", "in_corpus").cast(
            {"documents": pl.Int64, "kept": pl.Int64, "in_corpus": pl.Int64}).sort("crawl", "lang"))
    [record] = open_instance(str(sample_warehouse)).fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("crawl_summary")), limit=1).records
    meta = record.asset_materialization.metadata
    assert meta["documents"].value == decisions.height and meta["in_corpus"].value == corpus.height
    markdown = meta["by_crawl"].value
    assert markdown.startswith("| crawl |") and "CC-SAMPLE-2026-03" in markdown and "CC-SAMPLE-2026-07" in markdown
    assert "fineweb_dup_line_char_frac" in meta["by_drop_reason"].value
