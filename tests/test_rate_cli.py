"""`corpus rate export / import`, the starter ratings in `corpus demo`'s path, and the `quality_ratings` suite,
end to end on copies of the materialized bundled sample (the shared warehouse stays untouched)."""
import csv
import json
import shutil

import polars as pl
import pytest
from deltalake import DeltaTable, write_deltalake

from corpus_assets.cli import build_parser, main
from corpus_assets.cli.materialize import materialize
from corpus_assets.cli.rate import import_starter_ratings
from corpus_assets.core.scoring.ratings_table import import_sheet, known_in_table, ratings_uri
from corpus_assets.core.scoring.sheets import SHEET_COLUMNS
from warc_fixtures import REPO

STARTER = REPO / "data" / "ratings" / "starter-ratings.csv"


@pytest.fixture
def warehouse(sample_warehouse, tmp_path):
    """A private copy of the sample warehouse: these tests write quality_ratings."""
    copy = tmp_path / "warehouse"
    shutil.copytree(sample_warehouse, copy, ignore=shutil.ignore_patterns("_dagster", "_reports"))
    return copy


def corpus_ids(warehouse) -> set[str]:
    return set(pl.read_delta(str(warehouse / "corpus"), columns=["doc_id"])["doc_id"].to_list())


def ratings(warehouse) -> pl.DataFrame:
    return pl.read_delta(str(warehouse / "quality_ratings"))


def version(warehouse) -> int:
    return DeltaTable(str(warehouse / "quality_ratings")).version()


def read_csv(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == SHEET_COLUMNS
        return list(reader)


def write_csv(path, rows: list[dict], columns: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def export(warehouse, out, *extra) -> int:
    return main(["rate", "export", "--warehouse", str(warehouse), "--out", str(out), *extra])


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_export_writes_a_reproducible_stratified_sheet(warehouse, tmp_path, capsys):
    out = tmp_path / "sheet.csv"
    assert export(warehouse, out, "--n", "40", "--seed", "7") == 0
    rows = read_csv(out)
    assert len(rows) == 40 and len({r["doc_id"] for r in rows}) == 40
    assert {r["doc_id"] for r in rows} <= corpus_ids(warehouse)
    assert all(r["rating"] == "" and r["note"] == "" and r["url"].startswith("http") for r in rows)
    assert all(0 < len(r["excerpt"]) <= 1502 for r in rows)
    langs = [r["lang"] for r in rows]
    assert len(set(langs)) >= 10  # languages take turns: every language before any repeats
    assert len(set(langs[:len(set(langs))])) == len(set(langs))
    assert "40 documents (stratified, seed 7)" in capsys.readouterr().out

    again = tmp_path / "again.csv"
    assert export(warehouse, again, "--n", "40", "--seed", "7") == 0
    assert again.read_bytes() == out.read_bytes()
    other = tmp_path / "other.csv"
    assert export(warehouse, other, "--n", "40", "--seed", "8") == 0
    assert [r["doc_id"] for r in read_csv(other)] != [r["doc_id"] for r in rows]

    jsonl = tmp_path / "sheet.jsonl"
    assert export(warehouse, jsonl, "--n", "40", "--seed", "7") == 0
    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [line["doc_id"] for line in lines] == [r["doc_id"] for r in rows]
    assert list(lines[0]) == SHEET_COLUMNS


def test_export_refusals_are_one_line(warehouse, tmp_path, capsys):
    out = tmp_path / "sheet.csv"
    out.write_text("doc_id,rating\nabc,4\n")
    assert export(warehouse, out, "--n", "5") == 1
    assert "exists" in error_line(capsys) and out.read_text() == "doc_id,rating\nabc,4\n"
    assert export(warehouse, out, "--n", "5", "--force") == 0
    assert len(read_csv(out)) == 5
    capsys.readouterr()
    assert export(warehouse, tmp_path / "u.csv", "--n", "5", "--strategy", "uncertain") == 1
    assert "needs quality scores" in error_line(capsys) and not (tmp_path / "u.csv").exists()
    assert export(warehouse, tmp_path / "zero.csv", "--n", "0") == 1
    assert "--n must be at least 1" in error_line(capsys)
    assert export(warehouse, tmp_path / "sheet.xlsx", "--n", "5") == 1
    assert ".csv or .jsonl" in error_line(capsys)
    assert export(tmp_path / "nowhere", tmp_path / "n.csv", "--n", "5") == 1
    assert "no warehouse" in error_line(capsys)


def test_uncertain_export_takes_the_scores_nearest_one_half(warehouse, tmp_path):
    corpus = pl.read_delta(str(warehouse / "corpus"))
    # a quality_score column as the quality model writes it: here a spread of scores by a hash of doc_id
    scored = corpus.with_columns((pl.col("doc_id").hash(3) % 1000 / 999).alias("quality_score"))
    write_deltalake(str(warehouse / "corpus"), scored.to_arrow(), mode="overwrite", schema_mode="merge")
    out = tmp_path / "uncertain.csv"
    assert export(warehouse, out, "--n", "12", "--strategy", "uncertain") == 0
    picked = {r["doc_id"] for r in read_csv(out)}
    assert len(picked) == 12
    distance = scored.with_columns((pl.col("quality_score") - 0.5).abs().alias("d"))
    chosen = distance.filter(pl.col("doc_id").is_in(list(picked)))
    # within each language the picked documents are the ones nearest 0.5
    for (lang,), group in chosen.group_by("lang"):
        rest = distance.filter((pl.col("lang") == lang) & ~pl.col("doc_id").is_in(list(picked)))
        assert rest.is_empty() or group["d"].max() <= rest["d"].min(), lang


def test_import_appends_once_and_reimport_adds_nothing(warehouse, tmp_path, capsys):
    sheet = tmp_path / "sheet.csv"
    assert export(warehouse, sheet, "--n", "20") == 0
    rows = read_csv(sheet)
    for i, row in enumerate(rows[:15]):  # a sheet may be rated in part
        row["rating"], row["note"] = str(i % 6), f"note {i}"
    write_csv(sheet, rows, SHEET_COLUMNS)
    capsys.readouterr()
    assert main(["rate", "import", str(sheet), "--rater", "ana", "--warehouse", str(warehouse)]) == 0
    out = capsys.readouterr().out
    assert "imported 15 ratings" in out and "5 unrated rows skipped" in out
    table = ratings(warehouse)
    assert table.columns == ["doc_id", "rater", "rating", "note", "rated_at", "source_file"]
    assert table.height == 15 and set(table["rater"]) == {"ana"}
    assert sorted(table["rating"].to_list()) == sorted(i % 6 for i in range(15))
    assert table["source_file"].str.contains(r"^sheet\.csv#sha256:[0-9a-f]{16}$").all()
    assert table.filter(pl.col("doc_id") == rows[3]["doc_id"])["note"].to_list() == ["note 3"]
    first = version(warehouse)

    assert main(["rate", "import", str(sheet), "--rater", "ana", "--warehouse", str(warehouse)]) == 0
    assert "nothing new" in capsys.readouterr().out
    assert version(warehouse) == first and ratings(warehouse).height == 15
    renamed = tmp_path / "copy-of-sheet.csv"
    shutil.copy(sheet, renamed)
    assert main(["rate", "import", str(renamed), "--rater", "ana", "--warehouse", str(warehouse)]) == 0
    assert ratings(warehouse).height == 15  # the same content under another name
    assert main(["rate", "import", str(sheet), "--rater", "li", "--warehouse", str(warehouse)]) == 0
    assert ratings(warehouse).height == 30  # another rater's ratings are new
    # the next sheet leaves the rated documents out
    assert export(warehouse, tmp_path / "next.csv", "--n", "20") == 0
    assert not {r["doc_id"] for r in read_csv(tmp_path / "next.csv")} & set(ratings(warehouse)["doc_id"])


def bad_sheets(doc_id: str) -> dict:
    """name -> (columns, rows, expected words in the error line)"""
    return {
        "unknown_doc_id": (["doc_id", "rating"], [{"doc_id": doc_id, "rating": "3"},
                                                  {"doc_id": "0" * 32, "rating": "4"}], "unknown doc_id 000"),
        "rating_above_5": (["doc_id", "rating"], [{"doc_id": doc_id, "rating": "6"}], "rating '6' is not an integer"),
        "negative_rating": (["doc_id", "rating"], [{"doc_id": doc_id, "rating": "-1"}], "not an integer from 0 to 5"),
        "fraction": (["doc_id", "rating"], [{"doc_id": doc_id, "rating": "3.5"}], "not an integer from 0 to 5"),
        "missing_rating_column": (["doc_id", "note"], [{"doc_id": doc_id, "note": "good"}], "missing column 'rating'"),
        "missing_doc_id_column": (["url", "rating"], [{"url": "https://x.org/", "rating": "3"}],
                                  "missing column 'doc_id'"),
        "nothing_rated": (["doc_id", "rating"], [{"doc_id": doc_id, "rating": ""}], "no row has a rating"),
    }


@pytest.mark.parametrize("case", list(bad_sheets("x")))
def test_bad_sheets_are_refused_whole_with_one_line(warehouse, tmp_path, capsys, case):
    doc_id = sorted(corpus_ids(warehouse))[0]
    columns, rows, expected = bad_sheets(doc_id)[case]
    sheet = tmp_path / f"{case}.csv"
    write_csv(sheet, rows, columns)
    assert main(["rate", "import", str(sheet), "--rater", "ana", "--warehouse", str(warehouse)]) == 1
    line = error_line(capsys)
    assert line.startswith("corpus: error: ") and expected in line, line
    assert not (warehouse / "quality_ratings").exists()  # nothing written


def test_empty_files_and_a_missing_rater_are_refused(warehouse, tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["rate", "import", str(empty), "--rater", "ana", "--warehouse", str(warehouse)]) == 1
    assert "empty file" in error_line(capsys)
    header_only = tmp_path / "header.jsonl"
    header_only.write_text("\n\n")
    assert main(["rate", "import", str(header_only), "--rater", "ana", "--warehouse", str(warehouse)]) == 1
    assert "empty file" in error_line(capsys)
    assert main(["rate", "import", str(tmp_path / "none.csv"), "--rater", "ana", "--warehouse", str(warehouse)]) == 1
    assert "no such file" in error_line(capsys)
    sheet = tmp_path / "sheet.csv"
    write_csv(sheet, [{"doc_id": sorted(corpus_ids(warehouse))[0], "rating": "4"}], ["doc_id", "rating"])
    assert main(["rate", "import", str(sheet), "--warehouse", str(warehouse)]) == 1
    assert "missing column 'rater' (or give --rater NAME)" in error_line(capsys)
    assert main(["rate", "import", str(sheet), "--rater", "a\tb", "--warehouse", str(warehouse)]) == 1
    assert "printable" in error_line(capsys)
    assert not (warehouse / "quality_ratings").exists()


def test_a_bad_row_after_good_ones_writes_nothing(warehouse, tmp_path, capsys):
    ids = sorted(corpus_ids(warehouse))
    sheet = tmp_path / "sheet.csv"
    write_csv(sheet, [{"doc_id": ids[0], "rating": "4"}], ["doc_id", "rating"])
    assert main(["rate", "import", str(sheet), "--rater", "ana", "--warehouse", str(warehouse)]) == 0
    before = version(warehouse)
    bad = tmp_path / "bad.csv"
    write_csv(bad, [{"doc_id": ids[1], "rating": "4"}, {"doc_id": ids[2], "rating": "9"}], ["doc_id", "rating"])
    capsys.readouterr()
    assert main(["rate", "import", str(bad), "--rater", "ana", "--warehouse", str(warehouse)]) == 1
    assert "row 2" in error_line(capsys)
    assert version(warehouse) == before and ratings(warehouse)["doc_id"].to_list() == [ids[0]]


def test_starter_ratings_import_into_quality_ratings_and_pass_their_suite(warehouse, capsys):
    line = import_starter_ratings(str(warehouse))
    with open(STARTER, encoding="utf-8", newline="") as fh:
        starter = list(csv.DictReader(fh))
    assert f"imported {len(starter)} ratings" in line and "rater starter-rater-ai" in line
    table = ratings(warehouse)
    assert table.height == len(starter) >= 300
    assert set(table["rater"]) == {"starter-rater-ai"}
    assert dict(zip(table["doc_id"], table["rating"])) == {r["doc_id"]: int(r["rating"]) for r in starter}
    assert "nothing new" in import_starter_ratings(str(warehouse))  # a second `corpus demo`
    assert ratings(warehouse).height == len(starter)

    capsys.readouterr()
    assert main(["check", "--warehouse", str(warehouse), "--table", "quality_ratings"]) == 0
    assert "1 of 1 suites passed" in capsys.readouterr().out
    # a rating outside the scale and a rating of a document that does not exist fail their expectations
    bad = table.head(2).with_columns(pl.Series("rating", [9, 3], dtype=pl.Int8),
                                     pl.Series("doc_id", [table["doc_id"][0], "f" * 32]))
    write_deltalake(str(warehouse / "quality_ratings"), bad.to_arrow(), mode="append")
    assert main(["check", "--warehouse", str(warehouse), "--table", "quality_ratings"]) == 1
    out = capsys.readouterr().out
    assert "expect_column_values_to_be_between(rating)" in out and "doc_ids_exist_in_documents" in out
    assert "f" * 32 in out


def test_the_demo_hook_imports_ratings_after_ingest_before_the_corpus(tmp_path):
    """`corpus demo` imports the starter ratings through `materialize(after_ingest=...)`: the documents exist,
    the corpus (and anything a quality model reads later) does not yet. Real Dagster runs over one WARC file."""
    seen = {}

    def after_ingest(warehouse, failed):
        seen.update(failed=failed, documents=(tmp_path / "wh" / "documents").exists(),
                    corpus=(tmp_path / "wh" / "corpus").exists())
        doc_id = pl.read_delta(f"{warehouse}/documents", columns=["doc_id"])["doc_id"].sort()[0]
        sheet = tmp_path / "one.csv"
        write_csv(sheet, [{"doc_id": doc_id, "rating": "4"}], ["doc_id", "rating"])
        import_sheet(ratings_uri(warehouse), sheet, known_in_table(f"{warehouse}/documents"), "ana")

    args = build_parser().parse_args(["materialize", "--warehouse", str(tmp_path / "wh"), "--crawl",
                                      "CC-SAMPLE-2026-03", "--max-files", "1", "--workers", "1",
                                      "--select", "documents,signals,decisions,dedup_signatures,dedup_clusters,corpus"])
    result = materialize(args, after_ingest=after_ingest)
    assert not result.failed
    assert seen == {"failed": set(), "documents": True, "corpus": False}
    assert ratings(tmp_path / "wh")["rater"].to_list() == ["ana"]
    assert (tmp_path / "wh" / "corpus").exists()
