"""A damaged WARC file is contained to its file at once: named in one line and in the metadata, the
records before the damage kept, the shard's other files read, nothing retried; a shard of damaged
files only is a valid empty partition that says why it is empty."""
import dagster as dg
import polars as pl
import pytest

from corpus_assets.core.ingest.ccsource import CrawlSource
from corpus_assets.core.ingest.documents import DocumentSettings, ShardStats, iter_shard_documents
from corpus_assets.core.ingest.langid import LanguageIdentifier
from corpus_assets.core.ingest.shards import Shard
from corpus_assets.core.ingest.warc_reader import WarcDamaged, iter_records
from corpus_assets.core.lake.delta_tables import read_partition
from corpus_assets.defs.documents.assets import documents
from corpus_assets.defs.lake.warehouse import Warehouse
from corpus_assets.defs.sources.cc_source import CommonCrawlSource
from corpus_assets.defs.sources.partitions import warc_shards
from warc_fixtures import damaged_variants, sample_files, write_crawl

CRAWL = "CC-DAMAGED"
CAUSES = {
    "zero_bytes": r"empty file \(0 bytes\)",
    "random_bytes": r"not a WARC file: it starts with bytes [0-9a-f ]{11}, neither gzip \(1f 8b\) nor 'WARC/'",
    "truncated": r"record at offset \d+ fails its block digest \(truncated or corrupt\)",
    "garbage_first_record": r"unreadable record at offset 0: Invalid WARC header",
}


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    """A crawl of six files: good, the four damaged kinds (from the second good file), good."""
    root = tmp_path_factory.mktemp("damaged-crawl")
    first, second = (path.read_bytes() for path in sample_files("CC-SAMPLE-2026-07"))
    files = {"00-good.warc.gz": first}
    for number, (kind, data) in enumerate(damaged_variants(second).items(), 1):
        files[f"{number:02d}-{kind}.warc.gz"] = data
    files["05-good.warc.gz"] = second
    write_crawl(root, CRAWL, files)
    return root


@pytest.mark.parametrize("kind", CAUSES)
def test_each_kind_of_damage_is_named(crawl, kind):
    source = CrawlSource(str(crawl))
    [path] = [p for p in source.list_files(CRAWL) if kind in p]
    read = []
    with pytest.raises(WarcDamaged, match=f"^{CAUSES[kind]}$"):
        for record in iter_records(source.open(path), local_path=str(source.local_path(path))):
            read.append(record)
    assert (len(read) > 0) == (kind == "truncated")  # only the truncated file has records before its damage


def documents_of(source: CrawlSource, paths: list[str]) -> pl.DataFrame:
    """What the pipeline's core makes of these files alone."""
    batches = iter_shard_documents(source, Shard(CRAWL, 0, 0), paths, DocumentSettings(), ShardStats(),
                                   LanguageIdentifier())
    return pl.concat(pl.from_arrow(batch) for batch in batches)


def materialize(crawl, warehouse, key: str, instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    instance = instance or dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(warc_shards.name, [key])
    return dg.materialize([documents], partition_key=key, instance=instance, resources={
        "cc_source": CommonCrawlSource(uri=str(crawl), crawls=[CRAWL]), "warehouse": Warehouse(uri=str(warehouse))})


def test_damaged_files_are_contained_and_the_good_ones_read(crawl, tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(crawl, tmp_path / "wh", f"{CRAWL}/00000-00005", instance)
    assert result.success
    assert not [e for e in result.all_events if "RETRY" in e.event_type_value]
    meta = {k: v.value for k, v in result.asset_materializations_for_node("documents")[0].metadata.items()}
    source = CrawlSource(str(crawl))
    paths = source.list_files(CRAWL)
    damaged = meta["damaged_files"]
    assert [entry.split(":")[0] for entry in damaged] == paths[1:5]
    for entry, kind in zip(damaged, CAUSES):
        assert kind in entry.split(":")[0]
        assert pl.Series([entry]).str.contains(CAUSES[kind]).item()
    logged = [entry.user_message for entry in instance.all_logs(result.run_id)
              if entry.user_message.startswith("damaged WARC file")]
    assert len(logged) == 4 and all("\n" not in line for line in logged)
    assert [line.split()[3].rstrip(":") for line in logged] == paths[1:5]

    good = documents_of(source, [paths[0], paths[5]])
    written = pl.read_delta(str(tmp_path / "wh" / "documents"))
    assert set(good["doc_id"]) <= set(written["doc_id"])  # every document of the good files is there
    kept = written.filter(pl.col("warc_path") == paths[3])  # the truncated file: a prefix of its documents
    assert 0 < kept.height < good.filter(pl.col("warc_path") == paths[5]).height
    assert written.height == good.height + kept.height == meta["documents_written"]
    assert meta["empty_reason"] == ""


def test_a_shard_of_damaged_files_only_is_an_empty_partition_that_says_why(crawl, tmp_path):
    warehouse = tmp_path / "wh"
    assert materialize(crawl, warehouse, f"{CRAWL}/00000").success  # the table exists with another shard
    result = materialize(crawl, warehouse, f"{CRAWL}/00001-00002")  # the empty file and the random bytes
    assert result.success
    meta = {k: v.value for k, v in result.asset_materializations_for_node("documents")[0].metadata.items()}
    assert meta["records_read"] == meta["documents_written"] == 0 and len(meta["damaged_files"]) == 2
    assert meta["empty_reason"] == "2 of 2 files damaged; no records read"
    empty = read_partition(str(warehouse / "documents"), {"crawl": CRAWL, "shard": "00001-00002"})
    assert empty.height == 0 and "doc_id" in empty.columns
    assert pl.read_delta(str(warehouse / "documents"))["shard"].unique().to_list() == ["00000"]


@pytest.mark.slow  # builds a warehouse through Dagster runs
def test_every_good_shard_of_a_damaged_crawl_reaches_corpus(crawl, tmp_path, capsys):
    """`corpus materialize` over the six files as six shards: the damaged ones are valid (empty or
    partial) partitions whose checks pass, and both good shards are published."""
    from corpus_assets.cli import main
    from corpus_assets.cli.instance import open_instance
    from corpus_assets.core.checks.suites import check_groups

    warehouse = tmp_path / "wh"
    assert main(["materialize", "--source", str(crawl), "--warehouse", str(warehouse), "--workers", "0"]) == 0
    out = capsys.readouterr().out
    assert "FAILED" not in out
    published = pl.read_delta(str(warehouse / "corpus")).group_by("shard").len()
    assert {"00000", "00005"} <= set(published["shard"]) and published["len"].min() > 0
    instance = open_instance(str(warehouse))
    empty_shard = f"{CRAWL}/00001"  # the zero-byte file
    for table in ("documents", "signals", "decisions"):
        for group in check_groups(table):
            key = dg.AssetCheckKey(dg.AssetKey(table), group.name)
            [record] = [r for r in instance.event_log_storage.get_asset_check_execution_history(key, limit=50)
                        if r.evaluation is not None and r.evaluation.partition == empty_shard]
            assert record.evaluation.passed, (table, group.name)
