"""Both main-text extractors run through the documents asset on real pages of the bundled sample."""
import dagster as dg
import polars as pl

from corpus_assets.defs.documents.assets import documents
from corpus_assets.defs.lake.warehouse import Warehouse
from corpus_assets.defs.sources.cc_source import CommonCrawlSource
from corpus_assets.defs.sources.partitions import warc_shards
from warc_fixtures import SAMPLE

KEY = "CC-SAMPLE-2026-07/00000"


def documents_with(extractor: str, warehouse) -> pl.DataFrame:
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(warc_shards.name, [KEY])
    result = dg.materialize(
        [documents], partition_key=KEY, instance=instance,
        resources={"cc_source": CommonCrawlSource(uri=str(SAMPLE), crawls=[KEY.split("/")[0]]),
                   "warehouse": Warehouse(uri=str(warehouse))},
        run_config={"ops": {"documents": {"config": {"extractor": extractor}}}})
    assert result.success
    return pl.read_delta(str(warehouse / "documents"))


def test_trafilatura_extracts_real_pages_differently_from_resiliparse(tmp_path):
    resiliparse = documents_with("resiliparse", tmp_path / "resiliparse")
    trafilatura = documents_with("trafilatura", tmp_path / "trafilatura")
    assert trafilatura["extractor"].unique().to_list() == ["trafilatura"]
    assert trafilatura.height >= 0.9 * resiliparse.height > 50
    assert trafilatura.filter(pl.col("text").str.strip_chars() == "").height == 0
    both = resiliparse.join(trafilatura, on="doc_id", suffix="_trafilatura")
    differ = both.filter(pl.col("text") != pl.col("text_trafilatura")).height
    print(f"{trafilatura.height} trafilatura documents, {resiliparse.height} resiliparse; {differ} of {both.height} texts differ")
    assert differ >= 0.5 * both.height
