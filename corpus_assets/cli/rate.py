"""`corpus rate`: people rate corpus documents 0-5 (docs/rating-rubric.md) for the quality model.

export  a rating sheet (CSV or JSONL) of a seeded, stratified or uncertain selection of `corpus`
import  a rated sheet into the Delta table `quality_ratings` (validated whole; re-importing adds nothing)
serve   a local rating page: one document at a time, the rubric beside it, writing through the same import
"""
from __future__ import annotations

from pathlib import Path

from corpus_assets.cli.common import CliError, require_warehouse, warehouse_root

STRATEGIES = ("stratified", "uncertain")  # = core.scoring.sheets.STRATEGIES (not imported: keeps --help fast)
DEFAULT_PORT = 8765


def add_parser(sub) -> None:
    p = sub.add_parser("rate", help="rate corpus documents 0-5: export a sheet, import it, or rate on a local page")
    rate = p.add_subparsers(dest="rate_command", required=True, metavar="{export,import,serve}")

    export = _command(rate, "export", "write a rating sheet (CSV, or JSONL by extension) of corpus documents",
                      run_export)
    export.add_argument("--n", type=int, required=True, help="documents in the sheet")
    _selection_options(export)
    export.add_argument("--out", help="sheet file, .csv or .jsonl (default rating-sheet.csv)")
    export.add_argument("--include-rated", action="store_true",
                        help="also documents already in quality_ratings (default: left out)")
    export.add_argument("--force", action="store_true", help="overwrite --out when it exists")

    imp = _command(rate, "import", "append a rated sheet to the Delta table quality_ratings", run_import)
    imp.add_argument("file", metavar="FILE", help="a rated sheet (.csv or .jsonl) with doc_id and rating columns")
    imp.add_argument("--rater", help="who rated (rows with a rater column keep theirs)")

    serve = _command(rate, "serve", "a local rating page: one document at a time, the rubric beside it", run_serve)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    serve.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    serve.add_argument("--rater", help="the rater's name (else asked on the page)")
    serve.add_argument("--n", type=int, default=100, help="documents to offer (default 100), not yet rated by the rater")
    _selection_options(serve)


def _command(rate, name: str, help_text: str, func):
    p = rate.add_parser(name, help=help_text, description=help_text)
    p.add_argument("--warehouse", help="warehouse root (default $CORPUS_WAREHOUSE or ./warehouse)")
    p.set_defaults(func=func)
    return p


def _selection_options(p) -> None:
    p.add_argument("--strategy", choices=STRATEGIES, default="stratified",
                   help="stratified: spread over language, host and score bucket; uncertain: the documents the "
                        "current quality model is least sure of (needs quality_score)")
    p.add_argument("--seed", type=int, default=0, help="the same seed and corpus give the same selection (default 0)")


def _warehouse(args) -> str:
    warehouse = warehouse_root(args.warehouse)
    require_warehouse(warehouse)
    return warehouse


def _select(warehouse: str, n: int, strategy: str, seed: int, exclude):
    from corpus_assets.core.scoring.rating_docs import has_scores, select_documents

    if n < 1:
        raise CliError(f"--n must be at least 1, got {n}")
    corpus = f"{warehouse}/corpus"
    if strategy == "uncertain" and not has_scores(corpus):
        raise CliError("--strategy uncertain needs quality scores, and corpus has no quality_score column yet: "
                       "materialize the quality model and scores first, or use --strategy stratified")
    try:
        return select_documents(corpus, n, strategy, seed, exclude)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def run_export(args) -> None:
    from corpus_assets.core.scoring.ratings_table import ratings_uri, read_ratings_table
    from corpus_assets.core.scoring.sheets import SheetError, sheet_rows, write_sheet

    warehouse = _warehouse(args)
    out = Path(args.out or "rating-sheet.csv")
    if out.suffix.lower() not in (".csv", ".jsonl"):
        raise CliError(f"--out {out}: use a .csv or .jsonl file name")
    if out.exists() and not args.force:
        raise CliError(f"{out} exists (a sheet being rated?); choose another --out, or add --force to overwrite it")
    rated = set()
    if not args.include_rated:
        existing = read_ratings_table(ratings_uri(warehouse))
        rated = set(existing["doc_id"].to_list()) if existing is not None else set()
    selected = _select(warehouse, args.n, args.strategy, args.seed, rated)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_sheet(sheet_rows(selected), out)
    except SheetError as exc:
        raise CliError(str(exc)) from None
    languages = selected["lang"].value_counts(sort=True)
    print(f"{selected.height} documents ({args.strategy}, seed {args.seed}"
          + (f"; the {len(rated)} documents of quality_ratings left out" if rated else "") + ") -> " + str(out))
    if selected.height < args.n:
        print(f"the corpus has only {selected.height} documents to rate, not {args.n}")
    print("languages: " + ", ".join(f"{lang} {count}" for lang, count in languages.iter_rows()))
    print(f"rate each 0-5 in the rating column (docs/rating-rubric.md), then: corpus rate import {out} --rater NAME")


def run_import(args) -> None:
    from corpus_assets.core.scoring.ratings_table import import_sheet, known_in_table, ratings_uri
    from corpus_assets.core.scoring.sheets import SheetError

    warehouse = _warehouse(args)
    try:
        result = import_sheet(ratings_uri(warehouse), args.file, known_in_table(f"{warehouse}/documents"), args.rater)
    except SheetError as exc:
        message = str(exc).replace("(or give a rater name)", "(or give --rater NAME)")
        raise CliError(message) from None
    print(import_summary(warehouse, result, args.file))


def import_summary(warehouse: str, result, source) -> str:
    """What an import did, and what the table holds now."""
    from corpus_assets.core.scoring.ratings_table import ratings_uri, read_ratings_table

    parsed = result.parsed
    raters = ", ".join(sorted(set(parsed.rows["rater"].to_list())))
    skipped = f"; {parsed.unrated} unrated rows skipped" if parsed.unrated else ""
    if result.appended.height:
        done = (f"imported {result.appended.height} ratings from {source} (rater {raters}{skipped}"
                + (f"; {result.already_imported} imported before" if result.already_imported else "") + ")")
    else:
        done = f"nothing new: the {parsed.rows.height} ratings of {source} were imported before (rater {raters})"
    table = read_ratings_table(ratings_uri(warehouse))
    if table is None or not table.height:
        return done
    return (f"{done}\nquality_ratings: {table.height} ratings of {table['doc_id'].n_unique()} documents by "
            f"{table['rater'].n_unique()} rater(s)")


def import_starter_ratings(warehouse: str) -> str:
    """The starter rating set of the bundled sample into `quality_ratings` (`corpus demo`); a summary line."""
    from corpus_assets.core.package_data import starter_ratings
    from corpus_assets.core.scoring.ratings_table import import_sheet, known_in_table, ratings_uri

    path = starter_ratings()
    result = import_sheet(ratings_uri(warehouse), path, known_in_table(f"{warehouse}/documents"))
    return import_summary(warehouse, result, "the starter rating set (data/ratings/starter-ratings.csv)")


def run_serve(args) -> None:
    import uvicorn

    from corpus_assets.cli.rate_page import RatingSession, rating_app
    from corpus_assets.core.scoring.ratings_table import check_rater
    from corpus_assets.core.scoring.sheets import SheetError

    warehouse = _warehouse(args)
    if args.rater:
        try:
            check_rater(args.rater)
        except SheetError as exc:
            raise CliError(str(exc)) from None
    if args.n < 1:
        raise CliError(f"--n must be at least 1, got {args.n}")
    session = RatingSession(warehouse, args.n, args.strategy, args.seed, _select)
    local = {"127.0.0.1", "localhost", "::1"}
    app = rating_app(session, default_rater=args.rater,
                     allowed_hosts=sorted(local) if args.host in local else None)
    print(f"warehouse {warehouse}\nrating page on http://{args.host}:{args.port}/ (Ctrl-C to stop); ratings go to "
          f"{warehouse}/quality_ratings", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
