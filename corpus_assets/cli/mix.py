"""`corpus mix`: data mixtures from the specs folder: build (through Dagster), list, diff, spot-check, export."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from corpus_assets.cli.common import CliError, format_table, mixtures_folder, require_warehouse, warehouse_root

EXPORT_FORMATS = ("parquet", "jsonl", "tokens")  # = core.mixtures.export.FORMATS (not imported: keeps --help fast)


def add_parser(sub) -> None:
    p = sub.add_parser("mix", help="data mixtures: build, list, diff, spot-check, export")
    mix = p.add_subparsers(dest="mix_command", required=True, metavar="{build,list,diff,spot-check,export}")

    build = _command(mix, "build", "build mixtures (default: every spec and its real-only sibling) through Dagster",
                     run_build)
    build.add_argument("names", nargs="*", metavar="NAME", help="mixtures to build (default: all)")
    build.add_argument("--workers", type=int, default=1, help="mixture runs at once (default 1; 0: in this process)")
    build.add_argument("--verbose", action="store_true", help="show Dagster's run logs")

    listing = _command(mix, "list", "every mixture: spec hash, built version, rows, tokens, whether it is up to date",
                       run_list)
    listing.add_argument("--format", choices=["table", "csv", "json"], default="table")

    diff = _command(mix, "diff", "documents, rows and tokens added and removed per source between two builds", run_diff)
    diff.add_argument("name", metavar="NAME")
    diff.add_argument("--from", dest="from_version", type=int, metavar="V",
                      help="mixtures table version to compare from (default: the build before --to)")
    diff.add_argument("--to", dest="to_version", type=int, metavar="V", help="table version to compare to (default: latest)")
    diff.add_argument("--format", choices=["table", "csv", "json"], default="table",
                      help="table (with a header line naming both builds), csv or json")

    spot = _command(mix, "spot-check", "a seeded sample of each synthetic source as a rating sheet", run_spot_check)
    spot.add_argument("name", metavar="NAME")
    spot.add_argument("--n", type=int, required=True, help="documents per synthetic source")
    spot.add_argument("--out", help="sheet file, .csv or .jsonl (default spot-check-NAME.csv); with several synthetic "
                                    "sources one file each, named FILE-SOURCE.csv")

    export = _command(mix, "export", "write a build as shuffled training shards plus its manifest", run_export)
    export.add_argument("name", metavar="NAME")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="parquet")
    export.add_argument("--shard-rows", type=int, default=100_000, help="rows per shard (default 100,000)")
    export.add_argument("--out", help="output folder (default exports/NAME)")
    export.add_argument("--version", type=int, metavar="V", help="the build held at mixtures table version V "
                                                                 "(default: the latest)")


def _command(mix, name: str, help_text: str, func) -> argparse.ArgumentParser:
    p = mix.add_parser(name, help=help_text, description=help_text)
    p.add_argument("--warehouse", help="warehouse root (default $CORPUS_WAREHOUSE or ./warehouse)")
    p.add_argument("--mixtures", metavar="DIR", help="specs folder (default $CORPUS_MIXTURES or the packaged examples)")
    p.set_defaults(func=func)
    return p


def _catalog(args, names: list[str] | None = None):
    """The specs folder's mixtures; a malformed spec among those asked for (default: all) is one error line each."""
    from corpus_assets.core.mixtures.catalog import scan_specs
    from corpus_assets.core.mixtures.spec import REAL_ONLY_SUFFIX

    folder = mixtures_folder(args.mixtures)
    if not Path(folder).is_dir():
        raise CliError(f"{folder}: no such folder of mixture specs")
    catalog = scan_specs(folder)
    stems = {stem for name in names or [] for stem in (name, name.removesuffix(REAL_ONLY_SUFFIX))}
    errors = [error for stem, error in catalog.errors.items() if not names or stem in stems]
    for error in errors[1:]:
        print(f"corpus: error: {error}", file=sys.stderr)
    if errors:
        raise CliError(errors[0])
    unknown = [name for name in names or [] if name not in catalog.specs]
    if unknown:
        raise CliError(f"no mixture spec named {', '.join(unknown)} in {folder} "
                       f"(mixtures: {', '.join(catalog.specs) or 'none'})")
    return catalog


def _warehouse(args) -> str:
    warehouse = warehouse_root(args.warehouse)
    require_warehouse(warehouse)
    return warehouse


def run_build(args) -> None:
    """One `build_mixtures` run per mixture, recorded in the warehouse's Dagster instance."""
    from corpus_assets.cli.instance import open_instance
    from corpus_assets.cli.runner import cli_run_config, run_environment, run_partitions
    from corpus_assets.core.lake.delta_tables import table_exists
    from corpus_assets.defs.mixtures.partitions import register_mixtures

    warehouse = _warehouse(args)
    catalog = _catalog(args, args.names)
    names = args.names or list(catalog.specs)
    if not names:
        raise CliError(f"no mixture specs in {catalog.folder}")
    if not table_exists(f"{warehouse}/corpus"):
        raise CliError(f"no corpus table in {warehouse}; run `corpus materialize` first")
    register_mixtures(open_instance(warehouse), names)
    print(f"warehouse {warehouse}\nspecs {catalog.folder}\nbuilding {', '.join(names)}", flush=True)

    def report(done: int, total: int, outcome) -> None:
        meta = outcome.metadata.get("mixtures", {})
        detail = (f"{meta['dagster/row_count']} rows, {meta['tokens']:,} tokens, version {meta['delta_version']}"
                  + (f", {meta['shortfalls']} source(s) short" if meta.get("shortfalls") else "")
                  if meta else f"FAILED: {outcome.error}")
        print(f"[{done}/{total}] {outcome.partition} {detail} ({outcome.seconds:.1f}s)", flush=True)

    env = run_environment(warehouse, mixtures=str(catalog.folder))
    outcomes = run_partitions(names, ["mixtures"], cli_run_config(log_level="INFO" if args.verbose else "CRITICAL"),
                              max(0, args.workers), env, "build_mixtures", report)
    failed = [outcome for outcome in outcomes if not outcome.success]
    if failed:
        raise CliError(f"{len(failed)} mixture(s) failed: " + "; ".join(f"{o.partition}: {o.error}" for o in failed))


def run_list(args) -> None:
    import polars as pl

    from corpus_assets.core.mixtures.store import build_status, mixtures_uri
    from corpus_assets.core.lake.delta_tables import table_exists

    warehouse = _warehouse(args)
    catalog = _catalog(args)
    rows = [build_status(warehouse, spec) for spec in catalog.specs.values()]
    if table_exists(mixtures_uri(warehouse)):  # built mixtures whose spec is gone
        from deltalake import DeltaTable

        for part in sorted(p["mixture"] for p in DeltaTable(mixtures_uri(warehouse)).partitions()):
            if part not in catalog.specs:
                rows.append({"mixture": part, "status": "no spec in the folder"})
    for stem, error in catalog.errors.items():
        rows.append({"mixture": stem, "status": f"spec error: {error}"})
    if not rows:
        raise CliError(f"no mixture specs in {catalog.folder}")
    if args.format == "table":
        print(f"specs {catalog.folder}")
    sys.stdout.write(format_table(pl.DataFrame(rows, infer_schema_length=None).to_arrow(), args.format))


def run_diff(args) -> None:
    import polars as pl

    from corpus_assets.core.mixtures.diff import diff_mixture_rows
    from corpus_assets.core.mixtures.store import build_at, build_versions, read_rows

    warehouse = _warehouse(args)
    name = args.name
    to_build = build_at(warehouse, name, args.to_version)  # one-line error when there is no such version or build
    to_version = to_build if args.to_version is None else args.to_version
    from_version = args.from_version
    if from_version is None:
        earlier = [version for version in build_versions(warehouse, name) if version < to_build]
        if not earlier:
            raise CliError(f"mixture {name} has one build up to version {to_version}; nothing to compare it with "
                           "(rebuild it after a change, or give --from)")
        from_version = earlier[-1]
    elif not 0 <= from_version <= to_version:
        raise CliError(f"--from {from_version} must be a table version from 0 to --to ({to_version})")
    old, new = read_rows(warehouse, name, from_version), read_rows(warehouse, name, to_version)
    diff = diff_mixture_rows(old, new)

    def spec_of(rows: pl.DataFrame) -> str:
        return rows["spec_hash"][0] if rows.height else "not built"

    if args.format == "table":
        print(f"mixture {name}: version {from_version} (spec {spec_of(old)}, {old.height} rows, "
              f"{old['n_tokens'].sum():,} tokens) -> version {to_version} (spec {spec_of(new)}, {new.height} rows, "
              f"{new['n_tokens'].sum():,} tokens)")
    sys.stdout.write(format_table(diff.to_arrow(), args.format))


def run_spot_check(args) -> None:
    import polars as pl

    from corpus_assets.core.mixtures.inputs import open_corpus
    from corpus_assets.core.mixtures.spotcheck import rating_sheet, spot_check_doc_ids
    from corpus_assets.core.mixtures.store import spec_of_build, stored_build

    if args.n < 1:
        raise CliError(f"--n must be at least 1, got {args.n}")
    warehouse = _warehouse(args)
    build = stored_build(warehouse, args.name)
    spec = spec_of_build(build.manifest, _current_spec(args))
    if not spec.has_synthetic:
        raise CliError(f"mixture {args.name} has no synthetic source; there is nothing to spot-check")
    sample = spot_check_doc_ids(build.rows, spec, args.n)
    if not sample:
        raise CliError(f"mixture {args.name} (build version {build.version}) has no synthetic rows: its synthetic "
                       "sources matched no documents (import them with `corpus import --synthetic`)")
    corpus = open_corpus(f"{warehouse}/corpus", version=build.manifest["inputs"]["corpus"]["delta_version"])
    wanted = [column for column in ("doc_id", "url", "lang", "title", "text") if column in corpus.columns]
    corpus.con.register("spot_check_ids", pl.DataFrame({"doc_id": [d for ids in sample.values() for d in ids]}))
    documents = corpus.con.sql(f"SELECT {', '.join(wanted)} FROM corpus SEMI JOIN spot_check_ids USING (doc_id)").pl()
    out = Path(args.out or f"spot-check-{args.name}.csv")
    for source, doc_ids in sample.items():
        path = out if len(sample) == 1 else out.with_name(f"{out.stem}-{source}{out.suffix}")
        sheet = rating_sheet(documents, doc_ids)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".jsonl":
            sheet.write_ndjson(path)
        else:
            sheet.write_csv(path)
        print(f"{source}: {sheet.height} documents -> {path}")
    print("rate them 0-5 and import the sheet into quality_ratings; a source with min_spot_check_rating is then "
          "built only if its documents' mean rating reaches it")


def run_export(args) -> None:
    from corpus_assets.core.mixtures.export import export_mixture
    from corpus_assets.core.mixtures.inputs import open_corpus
    from corpus_assets.core.mixtures.store import spec_of_build, stored_build

    warehouse = _warehouse(args)
    build = stored_build(warehouse, args.name, args.version)
    spec = spec_of_build(build.manifest, _current_spec(args))
    corpus_version = build.manifest["inputs"]["corpus"]["delta_version"]
    corpus = open_corpus(f"{warehouse}/corpus", version=corpus_version, memory_limit="2GB")
    out = Path(args.out or os.path.join("exports", args.name))
    result = export_mixture(build.rows, corpus, spec, build.manifest, out, args.format, args.shard_rows)
    print(f"mixture {args.name} (build version {build.version}, spec {build.manifest['spec_hash']}, corpus version "
          f"{corpus_version}): {result.rows:,} rows in {len(result.files)} {args.format} shard(s), "
          f"{result.bytes:,} bytes -> {out} (index.json, manifest.json)")


def _current_spec(args):
    """The mixture's spec as the folder has it now, or None (deleted or broken: the manifest's is used)."""
    from corpus_assets.core.mixtures.catalog import spec_named
    from corpus_assets.core.mixtures.errors import MixtureSpecError

    try:
        return spec_named(mixtures_folder(args.mixtures), args.name)
    except MixtureSpecError:
        return None
