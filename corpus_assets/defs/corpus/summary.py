"""The crawl-wide view for the UI: per crawl, documents, kept, in the corpus, by language and drop reason."""
import dagster as dg

from corpus_assets.core.corpus.summary import markdown_table, summarize_warehouse
from corpus_assets.core.lake.delta_tables import replace_table_frame
from corpus_assets.defs.lake.warehouse import Warehouse
from corpus_assets.defs.phases import REPORT, phase


@dg.asset(group_name="corpus", kinds={"delta", "duckdb"}, deps=["decisions", "corpus"], tags=phase(REPORT),
          automation_condition=(dg.AutomationCondition.any_deps_updated().ignore(dg.AssetSelection.assets("decisions"))
                                .since_last_handled() & ~dg.AutomationCondition.in_progress())
          .with_label("refresh after corpus"),
          metadata={"dagster/table_name": "crawl_summary"})  # no suite: a small derived table
def crawl_summary(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Per crawl and language: documents, kept by the filters, in the corpus; the metadata shows it, the
    drop reasons and per-crawl shares as Markdown tables, and plots the totals over time."""
    frames = summarize_warehouse(warehouse.root(), warehouse.options())
    replace_table_frame(warehouse.table_uri("crawl_summary"), frames["by_language"], warehouse.options())
    by_crawl = frames["by_crawl"]
    totals = {column: int(by_crawl[column].sum()) for column in ("documents", "kept", "in_corpus")}
    per_crawl = {f"{crawl}/{column}": dg.MetadataValue.int(int(value))
                 for crawl, *values in by_crawl.select("crawl", "documents", "kept", "in_corpus").iter_rows()
                 for column, value in zip(("documents", "kept", "in_corpus"), values)}
    return dg.MaterializeResult(metadata={
        **{name: dg.MetadataValue.int(value) for name, value in totals.items()},
        "corpus_share": dg.MetadataValue.float(round(totals["in_corpus"] / max(totals["documents"], 1), 4)),
        **per_crawl,
        "by_crawl": dg.MetadataValue.md(markdown_table(by_crawl)),
        "by_language": dg.MetadataValue.md(markdown_table(frames["by_language"].sort(
            ["crawl", "documents"], descending=[False, True]))),
        "by_drop_reason": dg.MetadataValue.md(markdown_table(frames["by_drop_reason"])),
        "dagster/row_count": dg.MetadataValue.int(frames["by_language"].height),
        "crawls": dg.MetadataValue.int(by_crawl.height),
    })
