"""The starter rating set (data/ratings/starter-ratings.csv): its structure, and that it rates real
documents of the bundled sample."""
import csv
import re
from collections import Counter, defaultdict

import polars as pl
import pytest

from corpus_assets.core.privacy.pii import mask_pii
from warc_fixtures import REPO

RATINGS = REPO / "data" / "ratings" / "starter-ratings.csv"
COLUMNS = ["doc_id", "url", "lang", "title", "excerpt", "rating", "note", "rater"]
# an e-mail address; not a git remote (git@host:repo), which core/pii.py deliberately leaves alone
EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])(?!git@)[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


@pytest.fixture(scope="module")
def rows():
    with open(RATINGS, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def test_every_row_is_a_complete_rating(rows):
    assert len(rows) >= 300
    assert len({r["doc_id"] for r in rows}) == len(rows)
    assert {r["rating"] for r in rows} <= {"0", "1", "2", "3", "4", "5"}
    assert all(r["excerpt"].strip() and r["note"].strip() and r["url"] for r in rows)
    assert {r["rater"] for r in rows} == {"starter-rater-ai"}


def test_languages_and_both_sides_of_the_line(rows):
    per_lang = Counter(r["lang"] for r in rows)
    assert len(per_lang) >= 5
    ratings = defaultdict(set)
    for r in rows:
        ratings[r["lang"]].add(int(r["rating"]))
    for lang in ("en", "de", "zh", "ja"):
        assert per_lang[lang] >= 40, lang
        assert min(ratings[lang]) < 3 <= max(ratings[lang]), lang


def test_excerpts_carry_no_raw_pii(rows):
    assert not any(EMAIL.search(r["excerpt"]) for r in rows)
    assert all(mask_pii(r["excerpt"])[0] == r["excerpt"] for r in rows)  # nothing left to mask
    assert any("<EMAIL>" in r["excerpt"] for r in rows)  # the sample has e-mails; they were masked


def test_every_rated_document_is_in_the_bundled_sample(rows, sample_warehouse):
    documents = pl.read_delta(str(sample_warehouse / "documents")).select("doc_id", "url")
    rated = pl.DataFrame({"doc_id": [r["doc_id"] for r in rows], "rated_url": [r["url"] for r in rows]})
    joined = rated.join(documents, on="doc_id", how="left")
    assert joined.filter(pl.col("url").is_null()).height == 0
    assert (joined["url"] == joined["rated_url"]).all()
