"""The shipped example specs build on the corpus the real pipeline makes from the bundled sample
(through Dagster), with the synthetic Q&A sample added as an imported source."""
import polars as pl
import pytest
from deltalake import DeltaTable, write_deltalake
from mixture_fixtures import MIXTURES, synthetic_rows

from corpus_assets.core.mixtures.build import build_mixture
from corpus_assets.core.mixtures.inputs import open_corpus
from corpus_assets.core.mixtures.select import SHARE_TOLERANCE
from corpus_assets.core.mixtures.spec import load_specs


@pytest.fixture(scope="module")
def pipeline_corpus_with_synthetic(sample_warehouse, tmp_path_factory) -> str:
    crawled = pl.from_arrow(DeltaTable(str(sample_warehouse / "corpus")).to_pyarrow_dataset().to_table())
    if "source" not in crawled.columns:
        crawled = crawled.with_columns(source=pl.lit("common-crawl"), synthetic=pl.lit(False))
    imported = synthetic_rows().with_columns(source=pl.lit("synthetic-qa"), synthetic=pl.lit(True))
    uri = str(tmp_path_factory.mktemp("examples") / "corpus")
    write_deltalake(uri, pl.concat([crawled, imported], how="diagonal_relaxed").to_arrow())
    return uri


@pytest.mark.parametrize("name", sorted(load_specs(MIXTURES)))
def test_example_spec_builds_on_the_pipeline_corpus_within_its_shares(pipeline_corpus_with_synthetic, name):
    spec = load_specs(MIXTURES)[name]
    result = build_mixture(spec, open_corpus(pipeline_corpus_with_synthetic))
    assert result.manifest["shortfalls"] == []
    for stage in result.manifest["stages"]:
        assert abs(stage["tokens"] - stage["token_budget"]) <= 0.02 * stage["token_budget"]  # documents are whole
        for source in stage["sources"]:
            assert abs(source["share"] - source["target_share"]) <= SHARE_TOLERANCE, (stage["name"], source)
            assert source["max_share"] is None or source["share"] <= source["max_share"], (stage["name"], source)
    assert result.rows.filter(pl.col("synthetic")).height == (
        result.rows.filter(pl.col("source") == "synth_qa").height)
