"""Issue 16: re-published articles that were extended, cut, corrected or re-templated are found across
hosts and shards through the real assets, and distinct articles sharing a portal's template are not."""
import itertools
from pathlib import Path

import polars as pl
import pytest

from corpus_assets.cli import main
from neardup_variants import evaluate, truth_pairs, variant_pages, write_variant_crawl

CRAWL = "CC-VARIANTS"
pytestmark = pytest.mark.slow  # its fixture builds a warehouse of ten shards through Dagster runs


@pytest.fixture(scope="module")
def variant_crawl(tmp_path_factory):
    root = tmp_path_factory.mktemp("variants")
    pages = variant_pages(n_english=40, n_cjk=20, n_shards=10, n_portals=4, distinct_per_portal=4, seed=3)
    write_variant_crawl(root / "src", CRAWL, pages)
    warehouse = root / "wh"
    assert main(["materialize", "--source", str(root / "src"), "--warehouse", str(warehouse), "--workers", "0",
                 "--select", "documents,signals,quality_model,quality_scores,decisions,dedup_signatures,dedup_clusters"]) == 0
    clusters = pl.read_delta(str(warehouse / "dedup_clusters"))
    found = {tuple(sorted(pair)) for urls in clusters.group_by("cluster_id").agg("url")["url"]
             for pair in itertools.combinations(urls, 2)}
    return pages, found, warehouse


def test_variants_are_found_across_hosts_and_shards_with_high_precision(variant_crawl):
    pages, found, _ = variant_crawl
    truth = truth_pairs(pages)
    report = evaluate(found, pages, truth)
    assert {p.shard for p in pages} == set(range(10)) and len({p.host for p in pages}) > 20
    assert report["recall"] >= 0.95 and report["precision"] >= 0.95, report
    for key in ("kind:appended", "kind:deleted", "kind:edited", "kind:template", "lang:zh", "lang:ja"):
        assert report["recall_by"][key][0] >= 0.9, (key, report["recall_by"])


def test_distinct_articles_sharing_a_portal_template_are_not_merged(variant_crawl):
    pages, found, _ = variant_crawl
    source = {p.url: p.source for p in pages}
    portal = [p.url for p in pages if p.host.startswith("portal")]
    merged = [pair for pair in itertools.combinations(sorted(portal), 2)
              if pair in found and source[pair[0]] != source[pair[1]]]
    assert len(portal) > 30 and merged == []


def test_portal_templates_are_boilerplate_only_across_shards(variant_crawl):
    pages, _, warehouse = variant_crawl
    counts = pl.read_delta(str(Path(warehouse) / "host_line_counts")).filter(pl.col("url_host") == "portal0.example")
    per_shard = counts.group_by("shard").agg(pl.col("docs").max())["docs"]
    crawl_wide = counts.group_by("line_hash").agg(pl.col("docs").sum())["docs"].max()
    lines = pl.read_delta(str(Path(warehouse) / "boilerplate_lines")).filter(pl.col("url_host") == "portal0.example")
    assert per_shard.min() < 3 <= crawl_wide  # some shard alone would not have seen the template
    english = {f"{p.shard:05d}" for p in pages if p.host == "portal0.example" and p.lang == "en"}
    assert english <= set(lines["shard"])  # every shard with an English page of it removes the template
