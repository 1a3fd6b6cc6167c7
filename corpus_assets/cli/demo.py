"""`corpus demo`: materialize the bundled sample crawl, the synthetic Q&A set imported as a source of its own,
and the example mixtures, import the starter ratings, and summarise what the pipeline made of them."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from corpus_assets.cli.common import format_table, mixtures_folder, warehouse_root
from corpus_assets.cli.materialize import add_run_options, finish, materialize


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="materialize the bundled sample crawl, a small synthetic source and the example "
                                    "mixtures into ./warehouse and summarise them")
    add_run_options(p)
    p.set_defaults(func=run_demo)


def run_demo(args) -> None:
    from corpus_assets.core.lake.sql import connect, query_readonly

    args.source, args.crawl, args.select, args.max_files, args.missing, args.stale = None, [], None, None, False, False
    args.format = args.extractor = args.filter_config = None
    stage_demo_import(warehouse_root(args.warehouse))  # its partition then goes through every phase with the shards
    imported: list[str] = []
    result = materialize(args, after_ingest=lambda warehouse, failed: imported.append(_starter_ratings(warehouse, failed)))
    finish(result)
    warehouse = result.warehouse
    skips: Counter = Counter()
    for outcome in result.outcomes:
        skips.update(outcome.metadata.get("documents", {}).get("skips_by_reason") or {})
    con = connect(warehouse)

    def show(title: str, query: str) -> None:
        print(f"{title}:\n" + format_table(query_readonly(con, query)))

    show("\nDocuments per crawl", "SELECT crawl, count(DISTINCT shard) AS shards, count(*) AS documents "
                              "FROM documents GROUP BY crawl ORDER BY crawl")
    print("Skipped records by reason: " + (", ".join(f"{k}={v}" for k, v in skips.most_common()) or "none") + "\n")
    show("Per language: documents, kept by the filters, in the corpus (top 12)",
         "SELECT d.lang, count(*) AS documents, count(*) FILTER (WHERE d.keep) AS kept, count(c.doc_id) AS in_corpus "
         "FROM decisions d LEFT JOIN corpus c USING (doc_id) GROUP BY d.lang ORDER BY documents DESC, d.lang LIMIT 12")
    show("Top drop reasons (a document counts under each of its reasons)",
         "SELECT reason, sum(documents)::BIGINT AS documents FROM funnel WHERE reason <> 'kept' "
         "GROUP BY reason ORDER BY documents DESC, reason LIMIT 8")
    show("Corpus by source", "SELECT source, synthetic, generator, count(*) AS documents, sum(n_chars)::BIGINT AS chars "
                             "FROM corpus GROUP BY ALL ORDER BY documents DESC")
    show("Duplicate clusters", "SELECT dedup_kind, count(DISTINCT cluster_id) AS clusters, count(*) AS documents, "
                               "count(*) FILTER (WHERE NOT is_kept) AS removed FROM dedup_clusters GROUP BY ALL ORDER BY 1")
    print("Ratings: " + "; ".join(imported).replace("\n", "; ") + "\n")
    mixture = show_mixture(warehouse, mixtures_folder(args.mixtures))
    corpus = _command_path()
    print(f"""
Next:
  {corpus} sql "SELECT lang, count(*) FROM corpus GROUP BY lang ORDER BY 2 DESC"
  {corpus} sql "SELECT url, drop_reasons FROM decisions WHERE NOT keep LIMIT 10"   # why was a page dropped
  {corpus} sql --format csv "SELECT url, title, n_chars FROM corpus LIMIT 20"
  {corpus} import my-data.jsonl --source my-data   # a JSONL or Parquet dataset as a source of its own
  {corpus} mix list    # every mixture: spec hash, built version, rows, tokens, up to date or not
  {corpus} mix export {mixture} --format parquet --out exports/{mixture}   # shuffled training shards
  {corpus} sql "SELECT * FROM mixture_summary"   # --version mixtures=N reads an earlier build
  {corpus} rate export --n 50 --out sheet.csv   # a rating sheet; then: {corpus} rate import sheet.csv --rater NAME
  {corpus} rate serve  # rate documents one by one on http://127.0.0.1:8765 (the rubric beside each)
  {corpus} check       # the Great Expectations suites over every table (HTML report under the warehouse)
  {corpus} ui          # the Dagster UI on http://127.0.0.1:3000 (asset graph, runs, partitions)
Warehouse (Delta tables): {warehouse}""")


DEMO_SOURCE, DEMO_GENERATOR = "synthetic-qa", "templated-qa-v1"


def stage_demo_import(warehouse: str) -> None:
    """What `corpus import <the bundled synthetic-qa.jsonl> --source synthetic-qa --synthetic --generator
    templated-qa-v1` stages; `materialize` then runs its partition."""
    from corpus_assets.cli.imports import stage_import
    from corpus_assets.core.package_data import bundled_synthetic_qa

    spec = stage_import(warehouse, bundled_synthetic_qa(), DEMO_SOURCE, synthetic=True, generator=DEMO_GENERATOR)
    print(f"importing {spec.file_name} as the synthetic source {spec.source} (partition {spec.key})", flush=True)


def _starter_ratings(warehouse: str, failed: set[str]) -> str:
    """Import the starter rating set once the sample's documents exist (before dedup, corpus and the quality
    model), so everything after ingest sees the ratings. A failed shard lacks some rated documents: then the
    import is left out and the demo fails on that shard anyway."""
    from corpus_assets.cli.rate import import_starter_ratings

    if failed:
        return f"starter ratings not imported: {len(failed)} shard(s) failed to ingest"
    line = import_starter_ratings(warehouse)
    print(line, flush=True)
    return line


def show_mixture(warehouse: str, folder: str) -> str:
    """Print the built mixtures of the specs folder in one line, then the first one stage by stage (target vs
    achieved share); return its name."""
    import polars as pl

    from corpus_assets.core.mixtures.catalog import scan_specs
    from corpus_assets.core.mixtures.errors import MixtureBuildError
    from corpus_assets.core.mixtures.manifest import source_table
    from corpus_assets.core.mixtures.store import stored_build

    specs = scan_specs(folder).specs
    built = {}
    for name in specs:
        try:
            built[name] = stored_build(warehouse, name)
        except MixtureBuildError:
            continue
    if not built:
        print("No mixture was built (see `corpus mix list`).\n")
        return "NAME"
    print("Mixtures: " + "; ".join(
        f"{name} ({build.manifest['totals']['rows']:,} rows, {build.manifest['totals']['tokens']:,} tokens"
        + "".join(f", {item['source']} short by {item['shortfall_tokens']:,} tokens"
                  for item in build.manifest["shortfalls"]) + ")" for name, build in built.items()) + "\n")
    name, build = next(iter(built.items()))
    table = source_table(build.manifest).select(
        "stage", "source", pl.col("target_share").alias("target"), pl.col("share").round(4), "tokens", "documents",
        "rows", "copies", pl.col("shortfall_tokens").alias("short"))
    print(f"Mixture {name} ({specs[name].description or 'see its spec'}; spec {build.manifest['spec_hash']}, "
          f"table version {build.version}, corpus version {build.manifest['inputs']['corpus']['delta_version']}):\n"
          + format_table(table.to_arrow()))
    return name


def _command_path() -> str:
    """How to call `corpus` from here: by name when it is on PATH, else by its path in the environment."""
    import shutil

    script = Path(sys.executable).parent / "corpus"
    on_path = shutil.which("corpus")
    if on_path and Path(on_path).resolve() == script.resolve():
        return "corpus"
    try:
        return str(script.relative_to(Path.cwd())) if script.exists() else "corpus"
    except ValueError:
        return str(script)
