"""Rating sheets: export strategies on the sample's corpus, import validation, idempotent import."""
import csv
import datetime as dt
import json
import re

import numpy as np
import polars as pl
import pytest

from corpus_assets.core.scoring.sheets import (
    RATING_COLUMNS,
    SHEET_COLUMNS,
    SheetError,
    excerpt,
    new_ratings,
    read_ratings,
    select_for_rating,
    sheet_rows,
    write_sheet,
)


@pytest.fixture(scope="module")
def scored_corpus(sample_corpus):
    """The sample's corpus with a stand-in current score spread over [0, 1] (order of doc_id)."""
    return sample_corpus.with_columns(pl.Series("quality_score", np.linspace(0.0, 1.0, sample_corpus.height)))


def test_excerpt_cuts_at_a_word_boundary():
    text = "word " * 400
    cut = excerpt(text, 1500)
    assert len(cut) <= 1502 and cut.endswith(" …") and not cut[:-2].endswith("wor")
    assert excerpt("short text\n", 1500) == "short text"


def test_stratified_sheet_covers_every_language_and_host_before_repeating(sample_corpus):
    langs = set(sample_corpus["lang"].to_list())
    picked = select_for_rating(sample_corpus, len(langs), "stratified", seed=1)
    assert set(picked["lang"].to_list()) == langs  # one per language first
    per_lang = select_for_rating(sample_corpus, 3 * len(langs), "stratified", seed=1)
    en = per_lang.filter(pl.col("lang") == "en")
    assert en["url_host"].n_unique() == en.height  # hosts take turns within a language


def test_stratified_sheet_spreads_over_score_buckets(scored_corpus):
    en = scored_corpus.filter(pl.col("lang") == "en")
    buckets = np.minimum((en["quality_score"].to_numpy() * 10).astype(int), 9)
    picked = select_for_rating(en, len(set(buckets.tolist())), "stratified", seed=0)
    picked_buckets = np.minimum((picked["quality_score"].to_numpy() * 10).astype(int), 9)
    assert sorted(set(picked_buckets.tolist())) == sorted(set(buckets.tolist()))


def test_sheet_is_reproducible_from_a_seed(scored_corpus):
    for strategy in ("stratified", "uncertain"):
        first = select_for_rating(scored_corpus, 40, strategy, seed=3)["doc_id"].to_list()
        assert select_for_rating(scored_corpus, 40, strategy, seed=3)["doc_id"].to_list() == first
        assert select_for_rating(scored_corpus.sample(fraction=1.0, shuffle=True, seed=9), 40, strategy,
                                 seed=3)["doc_id"].to_list() == first  # input order does not matter
    assert (select_for_rating(scored_corpus, 40, "stratified", seed=4)["doc_id"].to_list()
            != select_for_rating(scored_corpus, 40, "stratified", seed=3)["doc_id"].to_list())


def test_uncertain_sheet_takes_scores_nearest_one_half_in_every_language(scored_corpus):
    picked = select_for_rating(scored_corpus, 2 * scored_corpus["lang"].n_unique(), "uncertain", seed=0)
    distance = (pl.col("quality_score") - 0.5).abs()
    rest = scored_corpus.filter(~pl.col("doc_id").is_in(picked["doc_id"].implode()))
    # per language: no unpicked document is nearer 0.5 than a picked one (a language wholly picked has no rest)
    per_lang = (picked.group_by("lang").agg(distance.max().alias("picked"))
                .join(rest.group_by("lang").agg(distance.min().alias("rest")), on="lang", how="left")
                .with_columns(pl.col("rest").fill_null(float("inf"))))
    assert per_lang.height == scored_corpus["lang"].n_unique()
    assert (per_lang["picked"] <= per_lang["rest"]).all(), per_lang.filter(pl.col("picked") > pl.col("rest"))
    with pytest.raises(ValueError, match="needs current scores"):
        select_for_rating(scored_corpus.drop("quality_score"), 5, "uncertain")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_written_sheet_has_the_columns_and_reads_back_once_rated(sample_corpus, tmp_path, suffix):
    sheet = sheet_rows(select_for_rating(sample_corpus, 12, "stratified", seed=0))
    path = tmp_path / f"sheet{suffix}"
    write_sheet(sheet, path)
    if suffix == ".csv":
        rows = list(csv.DictReader(open(path, encoding="utf-8", newline="")))
    else:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert list(rows[0]) == SHEET_COLUMNS and len(rows) == 12
    assert all(r["rating"] == "" and r["note"] == "" for r in rows)
    assert max(len(r["excerpt"]) for r in rows) <= 1502
    for i, row in enumerate(rows[:5]):  # a person rates the first five
        row["rating"] = str(i) if suffix == ".csv" else i
    _write(path, rows)
    parsed = read_ratings(path, set(sample_corpus["doc_id"].to_list()), default_rater="ana")
    assert parsed.rows.columns == RATING_COLUMNS
    assert parsed.rows["rating"].to_list() == [0, 1, 2, 3, 4] and parsed.unrated == 7
    assert set(parsed.rows["rater"].to_list()) == {"ana"}
    assert parsed.source_file.startswith(f"sheet{suffix}#sha256:")


def _write(path, rows, columns=None):
    if path.suffix == ".csv":
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns or list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


KNOWN = {"a1", "b2", "c3"}


@pytest.mark.parametrize("rows, message", [
    ([{"doc_id": "a1", "rating": "6"}], "row 1 (doc_id a1): rating '6' is not an integer from 0 to 5"),
    ([{"doc_id": "a1", "rating": "3.5"}], "rating '3.5' is not an integer"),
    ([{"doc_id": "a1", "rating": "-1"}], "rating '-1' is not an integer"),
    ([{"doc_id": "a1", "rating": "4"}, {"doc_id": "zz9", "rating": "2"}], "row 2: unknown doc_id zz9"),
    ([{"doc_id": "a1", "rating": "4"}, {"doc_id": "a1", "rating": "2"}], "rated twice by ana (rows 1 and 2)"),
    ([{"doc_id": "a1", "rating": ""}], "no row has a rating"),
])
def test_invalid_sheets_are_refused_with_one_line(tmp_path, rows, message):
    path = tmp_path / "rated.csv"
    _write(path, [{"note": "", **r} for r in rows])
    with pytest.raises(SheetError, match=re.escape(message)) as info:
        read_ratings(path, KNOWN, default_rater="ana")
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_missing_column_empty_file_and_unknown_format_are_refused(tmp_path):
    path = tmp_path / "rated.csv"
    _write(path, [{"doc_id": "a1", "note": "x"}])
    with pytest.raises(SheetError, match="missing column 'rating'"):
        read_ratings(path, KNOWN, default_rater="ana")
    _write(path, [{"doc_id": "a1", "rating": "3"}])
    with pytest.raises(SheetError, match="missing column 'rater'"):
        read_ratings(path, KNOWN)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(SheetError, match="empty file"):
        read_ratings(empty, KNOWN, default_rater="ana")
    (tmp_path / "header_only.csv").write_text("doc_id,rating\n")
    with pytest.raises(SheetError, match="no rows"):
        read_ratings(tmp_path / "header_only.csv", KNOWN, default_rater="ana")
    (tmp_path / "rated.xlsx").write_bytes(b"PK")
    with pytest.raises(SheetError, match="use .csv or .jsonl"):
        read_ratings(tmp_path / "rated.xlsx", KNOWN, default_rater="ana")
    with pytest.raises(SheetError, match="no such file"):
        read_ratings(tmp_path / "nope.csv", KNOWN, default_rater="ana")


def test_a_rater_column_names_each_rows_rater(tmp_path):
    path = tmp_path / "starter.jsonl"
    _write(path, [{"doc_id": "a1", "rating": 4, "rater": "li"}, {"doc_id": "b2", "rating": 1, "rater": ""}])
    parsed = read_ratings(path, KNOWN, default_rater="ana")
    assert parsed.rows["rater"].to_list() == ["li", "ana"]
    with pytest.raises(SheetError, match="row 2 \\(doc_id b2\\): no rater"):
        read_ratings(path, KNOWN)


def test_reimporting_the_same_file_adds_nothing(tmp_path):
    path = tmp_path / "rated.csv"
    _write(path, [{"doc_id": "a1", "rating": "4", "note": "good"}, {"doc_id": "b2", "rating": "1", "note": ""}])
    first = read_ratings(path, KNOWN, default_rater="ana", rated_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    table = new_ratings(first.rows, None)
    assert table.height == 2
    again = read_ratings(path, KNOWN, default_rater="ana")
    assert new_ratings(again.rows, table).height == 0
    renamed = tmp_path / "copy-of-rated.csv"
    renamed.write_bytes(path.read_bytes())
    assert new_ratings(read_ratings(renamed, KNOWN, default_rater="ana").rows, table).height == 0
    other_rater = read_ratings(path, KNOWN, default_rater="li")
    assert new_ratings(other_rater.rows, table).height == 2
    _write(path, [{"doc_id": "a1", "rating": "5", "note": "changed my mind"}])
    assert new_ratings(read_ratings(path, KNOWN, default_rater="ana").rows, table).height == 1
