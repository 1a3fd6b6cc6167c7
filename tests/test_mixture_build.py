"""Building mixtures on a real Delta corpus made from the bundled sample (see mixture_fixtures.py):
determinism, shares, repeats and shortfalls, synthetic caps and the real-only sibling, stages,
missing columns, spot-check ratings, token counts and their cache, diffs."""
import hashlib

import polars as pl
import pytest
import yaml
from mixture_fixtures import MIXTURES, with_sources, write_corpus

from corpus_assets.core.mixtures.build import build_mixture
from corpus_assets.core.mixtures.diff import diff_mixture_rows
from corpus_assets.core.mixtures.errors import MixtureBuildError
from corpus_assets.core.mixtures.inputs import open_corpus
from corpus_assets.core.mixtures.select import ROW_SCHEMA, SHARE_TOLERANCE
from corpus_assets.core.mixtures.spec import load_specs, parse_spec, real_only
from corpus_assets.core.mixtures.spotcheck import SHEET_COLUMNS, rating_sheet, spot_check_doc_ids
from corpus_assets.core.mixtures.tokens import HFTokenizer, approx_token_count, train_bpe_tokenizer

EXAMPLES = load_specs(MIXTURES)
THREE_SOURCES = {"name": "three", "seed": 11, "token_budget": 60000, "sources": [
    {"name": "web_en", "where": "lang = 'en'", "weight": 0.5},
    {"name": "web_de", "where": "lang = 'de'", "weight": 0.3},
    {"name": "web_zh", "where": "lang = 'zh'", "weight": 0.2}]}


def build(spec_data, corpus_uri, **kwargs):
    spec = spec_data if not isinstance(spec_data, dict) else parse_spec(spec_data, origin="test.yaml")
    return build_mixture(spec, open_corpus(corpus_uri), **kwargs)


def shares_of(result) -> dict[tuple[str, str], tuple[float, float]]:
    return {(stage["name"], source["source"]): (source["share"], source["target_share"])
            for stage in result.manifest["stages"] for source in stage["sources"]}


def test_the_same_spec_on_the_same_input_gives_identical_rows_and_manifest(mixture_corpus):
    first, second = build(EXAMPLES["web-en-zh-v1"], mixture_corpus), build(EXAMPLES["web-en-zh-v1"], mixture_corpus)
    assert first.rows.height > 0 and first.rows.schema == pl.Schema(ROW_SCHEMA)
    assert first.rows.equals(second.rows)
    assert first.manifest == second.manifest


def test_order_within_a_source_is_the_md5_of_seed_mixture_stage_doc_id(mixture_corpus, sample_frames):
    result = build(THREE_SOURCES, mixture_corpus)
    crawled, _ = sample_frames

    def key(doc_id: str) -> str:
        return hashlib.md5(f"11\x1fthree\x1fmain\x1f{doc_id}".encode()).hexdigest()

    for source, lang in (("web_en", "en"), ("web_de", "de"), ("web_zh", "zh")):
        taken = result.rows.filter(pl.col("source") == source)["doc_id"].to_list()
        assert [key(d) for d in taken] == sorted(key(d) for d in taken)
        pool = sorted(crawled.filter(pl.col("lang") == lang)["doc_id"].to_list(), key=key)
        assert taken[0] == pool[0]  # the fill starts at the first document of the order


def test_a_different_seed_draws_a_different_sample(mixture_corpus):
    first = build(THREE_SOURCES, mixture_corpus)
    other = build({**THREE_SOURCES, "seed": 12}, mixture_corpus)
    for source in ("web_en", "web_de"):
        mine = first.rows.filter(pl.col("source") == source)["doc_id"].to_list()
        theirs = other.rows.filter(pl.col("source") == source)["doc_id"].to_list()
        assert mine != theirs and set(mine) != set(theirs)
    assert first.manifest["spec_hash"] != other.manifest["spec_hash"]


@pytest.mark.parametrize("name", ["web-en-zh-v1", "web-en-zh-v1-real-only", "web-curriculum-v1", "three"])
def test_every_source_gets_its_weight_within_one_percentage_point(mixture_corpus, name):
    result = build(EXAMPLES.get(name) or THREE_SOURCES, mixture_corpus)
    for (stage, source), (share, target) in shares_of(result).items():
        assert abs(share - target) <= SHARE_TOLERANCE, (stage, source, share, target)
    per_source = result.rows.group_by("stage", "source").agg(pl.col("n_tokens").sum())
    for stage in result.manifest["stages"]:
        stage_rows = per_source.filter(pl.col("stage") == stage["name"])
        assert stage_rows["n_tokens"].sum() == stage["tokens"]
        assert abs(stage["tokens"] - stage["token_budget"]) <= 0.01 * stage["token_budget"]


def test_a_short_source_is_repeated_up_to_max_epochs_and_copies_are_nested(mixture_corpus):
    spec = {"name": "repeat", "seed": 5, "token_budget": 2000000, "sources": [
        {"name": "web_other", "where": "lang NOT IN ('de', 'en', 'zh')", "weight": 0.5, "max_epochs": 4},
        {"name": "web_de", "where": "lang = 'de'", "weight": 0.5, "max_epochs": 4}]}
    result = build(spec, mixture_corpus)
    source = next(s for s in result.manifest["stages"][0]["sources"] if s["source"] == "web_other")
    assert source["pool_tokens"] < 1000000 < 4 * source["pool_tokens"]
    assert source["copies"] == -(-1000000 // source["pool_tokens"])  # full copies plus a partial one
    repeated = result.rows.filter(pl.col("source") == "web_other")
    assert source["repeated_rows"] == repeated.filter(pl.col("copy") > 0).height > 0
    for copy in range(1, source["copies"]):
        later = set(repeated.filter(pl.col("copy") == copy)["doc_id"])
        assert later <= set(repeated.filter(pl.col("copy") == copy - 1)["doc_id"])
    assert repeated.filter(pl.col("copy") == 0).height == source["pool_documents"]


def test_a_source_still_short_after_max_epochs_fails_with_its_tokens_and_the_need(mixture_corpus):
    spec = {"name": "short", "seed": 5, "token_budget": 2000000, "sources": [
        {"name": "web_other", "where": "lang NOT IN ('de', 'en', 'zh')", "weight": 0.5, "max_epochs": 2},
        {"name": "web_de", "where": "lang = 'de'", "weight": 0.5, "max_epochs": 4}]}
    with pytest.raises(MixtureBuildError) as caught:
        build(spec, mixture_corpus)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("test.yaml: stage main, source web_other: has ")
    assert "2 epoch(s) give" in message and "but its share needs 1,000,000" in message
    allowed = build({**spec, "allow_shortfall": True}, mixture_corpus)
    [shortfall] = allowed.manifest["shortfalls"]
    assert shortfall["source"] == "web_other" and shortfall["tokens_needed"] == 1000000
    assert shortfall["tokens"] == 2 * shortfall["pool_tokens"]
    assert shortfall["shortfall_tokens"] == 1000000 - shortfall["tokens"]
    de = next(s for s in allowed.manifest["stages"][0]["sources"] if s["source"] == "web_de")
    assert abs(de["tokens"] - 1000000) < 2000 and de["shortfall_tokens"] == 0  # the others keep their targets


def test_synthetic_share_never_exceeds_max_share_and_real_sources_take_no_synthetic_text(mixture_corpus):
    for weight in (0.05, 0.2):
        spec = {"name": "synth", "seed": 9, "token_budget": 30000, "sources": [
            {"name": "web", "where": "lang IN ('en', 'de')", "weight": 1 - weight},
            {"name": "qa", "where": "source = 'synthetic-qa'", "weight": weight, "synthetic": True,
             "max_share": weight}]}
        result = build(spec, mixture_corpus)
        qa = next(s for s in result.manifest["stages"][0]["sources"] if s["source"] == "qa")
        assert 0 < qa["share"] <= weight
        web = next(s for s in result.manifest["stages"][0]["sources"] if s["source"] == "web")
        assert web["synthetic_excluded"] == 99  # every generated record is en or de
        assert result.rows.filter(pl.col("source") == "web", pl.col("synthetic")).height == 0
        assert result.rows.filter(pl.col("source") == "qa")["synthetic"].all()
        assert result.manifest["totals"]["synthetic_tokens"] == qa["tokens"]


def test_a_real_source_over_synthetic_documents_only_fails_and_says_why(mixture_corpus):
    spec = {"name": "undeclared", "seed": 9, "token_budget": 10000, "sources": [
        {"name": "web", "where": "lang = 'en'", "weight": 0.9},
        {"name": "qa", "where": "source = 'synthetic-qa'", "weight": 0.1}]}
    with pytest.raises(MixtureBuildError, match="source qa: has 0 tokens.*matched 99 synthetic documents"):
        build(spec, mixture_corpus)


def test_the_real_only_sibling_keeps_budget_and_order_without_synthetic_rows(mixture_corpus):
    parent = build(EXAMPLES["web-en-zh-v1"], mixture_corpus)
    sibling = build(real_only(EXAMPLES["web-en-zh-v1"]), mixture_corpus)
    assert sibling.rows.filter(pl.col("synthetic")).height == 0
    assert set(sibling.rows["source"]) == {"web_en", "web_zh"}
    assert sibling.manifest["derived_from"] == "web-en-zh-v1"
    shares = shares_of(sibling)
    assert shares[("main", "web_en")][1] == pytest.approx(0.6 / 0.95)
    assert abs(sibling.manifest["totals"]["tokens"] - parent.manifest["totals"]["tokens"]) <= 400
    # same document order: the sibling's first documents of each source are the parent's
    for source in ("web_en", "web_zh"):
        mine = parent.rows.filter(pl.col("source") == source, pl.col("copy") == 0)["doc_id"].to_list()
        theirs = sibling.rows.filter(pl.col("source") == source, pl.col("copy") == 0)["doc_id"].to_list()
        assert mine[:5] == theirs[:5]


def test_stages_have_their_own_budget_and_sources_in_curriculum_order(mixture_corpus):
    result = build(EXAMPLES["web-curriculum-v1"], mixture_corpus)
    assert result.rows["stage"].unique(maintain_order=True).to_list() == ["major", "low-resource"]
    by_stage = {stage["name"]: stage for stage in result.manifest["stages"]}
    assert by_stage["major"]["token_budget"] == 150000 and by_stage["low-resource"]["token_budget"] == 250000
    assert set(result.rows.filter(pl.col("stage") == "major")["source"]) == {"web_de", "web_en"}
    low = result.rows.filter(pl.col("stage") == "low-resource")
    assert set(low["source"]) == {"web_zh", "web_other"}
    other_docs = low.filter(pl.col("source") == "web_other")["doc_id"]
    assert other_docs.n_unique() > 10


def test_a_corpus_without_source_and_synthetic_columns_gets_stated_defaults(legacy_corpus):
    result = build(THREE_SOURCES, legacy_corpus)
    assert result.manifest["inputs"]["corpus"]["columns_defaulted"] == {"source": "common-crawl", "synthetic": False}
    crawl_only = build({**THREE_SOURCES, "sources": [{"name": "cc", "where": "source = 'common-crawl'", "weight": 1}]},
                       legacy_corpus)
    assert crawl_only.manifest["totals"]["tokens"] >= 59000
    strict = yaml.safe_load((MIXTURES / "web-en-zh-v1.yaml").read_text()) | {"allow_shortfall": False}
    with pytest.raises(MixtureBuildError, match="source synth_qa: has 0 tokens in 0 documents"):
        build(strict, legacy_corpus)
    [shortfall] = build(EXAMPLES["web-en-zh-v1"], legacy_corpus).manifest["shortfalls"]  # the shipped example allows it
    assert shortfall["source"] == "synth_qa" and shortfall["tokens"] == 0 and shortfall["shortfall_tokens"] == 2000


@pytest.mark.parametrize(("where", "problem"), [
    ("lang = 'en' AND quality_score >= 0.5", 'Referenced column "quality_score" not found'),
    ("n_chars", "must be a boolean predicate, it is BIGINT"),
    ("ATTACH 'x.db'", "Type with name ATTACH does not exist"),
])
def test_a_predicate_that_does_not_fit_the_corpus_fails_naming_file_and_field(mixture_corpus, where, problem):
    spec = {**THREE_SOURCES, "sources": [THREE_SOURCES["sources"][0], {**THREE_SOURCES["sources"][1], "where": where}]}
    with pytest.raises(MixtureBuildError) as caught:
        build(spec, mixture_corpus)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("test.yaml: sources[1].where: ") and problem in message


def rated_spec(minimum: float) -> dict:
    return {"name": "rated", "seed": 4, "token_budget": 20000, "sources": [
        {"name": "web", "where": "lang = 'en'", "weight": 0.9},
        {"name": "qa", "where": "source = 'synthetic-qa'", "weight": 0.1, "synthetic": True, "max_share": 0.1,
         "min_spot_check_rating": minimum}]}


def test_spot_check_sample_is_seeded_and_in_the_rating_sheet_format(mixture_corpus, sample_frames):
    data = rated_spec(3)
    del data["sources"][1]["min_spot_check_rating"]
    spec = parse_spec(data)
    result = build(spec, mixture_corpus)
    sample = spot_check_doc_ids(result.rows, spec, n=5)
    assert list(sample) == ["qa"] and len(sample["qa"]) == 5
    assert sample == spot_check_doc_ids(result.rows.sample(fraction=1.0, shuffle=True, seed=1), spec, n=5)
    assert sample != spot_check_doc_ids(result.rows, parse_spec({**data, "seed": 5}), n=5)
    assert set(sample["qa"]) <= set(result.rows.filter(pl.col("source") == "qa")["doc_id"])
    documents = pl.concat([frame.select("doc_id", "url", "lang", "title", "text") for frame in sample_frames])
    sheet = rating_sheet(documents, sample["qa"])
    assert sheet.columns == SHEET_COLUMNS and sheet["doc_id"].to_list() == sample["qa"]
    assert sheet["excerpt"].str.len_chars().max() <= 1500 and sheet["rating"].null_count() == 5
    assert sheet["title"].null_count() == 0


def ratings_for(doc_ids: list[str], values: list[int]) -> pl.DataFrame:
    return pl.DataFrame({"doc_id": doc_ids, "rater": ["ana"] * len(doc_ids), "rating": values,
                         "note": [None] * len(doc_ids)}, schema_overrides={"note": pl.String})


def test_min_spot_check_rating_is_enforced_from_ratings(mixture_corpus, sample_frames):
    synthetic_ids = sample_frames[1]["doc_id"].to_list()
    crawled_ids = sample_frames[0]["doc_id"].to_list()
    with pytest.raises(MixtureBuildError, match=r"sources\[1\].min_spot_check_rating: .*no ratings table"):
        build(rated_spec(3), mixture_corpus)
    with pytest.raises(MixtureBuildError, match="none of its documents has been rated"):
        build(rated_spec(3), mixture_corpus, ratings=ratings_for(crawled_ids[:4], [5, 5, 5, 5]))
    with pytest.raises(MixtureBuildError, match="mean spot-check rating 2.50 over 4 ratings is below .* 3"):
        build(rated_spec(3), mixture_corpus, ratings=ratings_for(synthetic_ids[:4], [2, 3, 2, 3]))
    passed = build(rated_spec(3), mixture_corpus, ratings=ratings_for(synthetic_ids[:4] + crawled_ids[:1], [4, 3, 3, 4, 0]))
    qa = next(s for s in passed.manifest["stages"][0]["sources"] if s["source"] == "qa")
    assert qa["spot_check"] == {"min_rating": 3, "mean_rating": 3.5, "ratings": 4, "documents_rated": 4}


@pytest.mark.slow  # three builds and a BPE training
def test_token_counts_are_cached_per_tokenizer_and_match_the_tokenizer(mixture_corpus, sample_frames, tmp_path):
    cache = str(tmp_path / "token_counts")
    first = build(THREE_SOURCES, mixture_corpus, token_cache_uri=cache)
    again = build(THREE_SOURCES, mixture_corpus, token_cache_uri=cache)
    assert first.token_counts["counted"] > 0 and first.token_counts["cached"] == 0
    assert again.token_counts == {"counted": 0, "cached": first.token_counts["counted"]}
    assert first.rows.equals(again.rows)
    texts = dict(zip(sample_frames[0]["doc_id"], sample_frames[0]["text"]))
    assert all(n == approx_token_count(texts[d]) for d, n in zip(first.rows["doc_id"], first.rows["n_tokens"]))

    tokenizer_path = train_bpe_tokenizer(sample_frames[0]["text"].to_list(), 2000, tmp_path / "bpe.json")
    spec = parse_spec({**THREE_SOURCES, "tokenizer": "bpe.json"}, origin="test.yaml", base_dir=tmp_path)
    bpe = build(spec, mixture_corpus, token_cache_uri=cache)
    assert bpe.token_counts["cached"] == 0  # another tokenizer, other counts
    tokenizer = HFTokenizer(tokenizer_path)
    sample = bpe.rows.head(20)
    assert sample["n_tokens"].to_list() == tokenizer.count([texts[d] for d in sample["doc_id"]])
    assert bpe.manifest["spec"]["tokenizer"].startswith("tokenizer.json:sha256:")


def test_diff_counts_documents_and_tokens_added_and_removed_per_source(mixture_corpus):
    old = build(THREE_SOURCES, mixture_corpus).rows
    new = build({**THREE_SOURCES, "token_budget": 80000}, mixture_corpus).rows
    same = diff_mixture_rows(old, old)
    assert same.height == 3 and same.select(pl.exclude("stage", "source")).sum_horizontal().sum() == 0
    diff = diff_mixture_rows(old, new)
    for row in diff.iter_rows(named=True):
        before = old.filter(pl.col("source") == row["source"])
        after = new.filter(pl.col("source") == row["source"])
        assert row["tokens_added"] - row["tokens_removed"] == after["n_tokens"].sum() - before["n_tokens"].sum()
        assert row["rows_added"] - row["rows_removed"] == after.height - before.height
        assert row["documents_added"] == len(set(after["doc_id"]) - set(before["doc_id"]))
        assert row["documents_removed"] == len(set(before["doc_id"]) - set(after["doc_id"]))
    assert diff["tokens_added"].sum() > diff["tokens_removed"].sum() > 0 or diff["tokens_removed"].sum() == 0
    assert diff["documents_added"].sum() > 0


def test_a_document_matched_by_two_sources_goes_to_the_first_and_is_counted(mixture_corpus, sample_frames):
    spec = {"name": "overlap", "seed": 2, "token_budget": 40000, "sources": [
        {"name": "web_de", "where": "lang = 'de'", "weight": 0.5},
        {"name": "web_en", "where": "lang = 'en'", "weight": 0.3},
        {"name": "web_all", "where": "lang IN ('de', 'en', 'zh')", "weight": 0.2}]}
    result = build(spec, mixture_corpus)
    sources = {s["source"]: s for s in result.manifest["stages"][0]["sources"]}
    crawled = sample_frames[0]
    assert sources["web_all"]["overlap_documents"] == crawled.filter(pl.col("lang").is_in(["de", "en"])).height
    assert sources["web_en"]["overlap_documents"] == 0 and sources["web_de"]["overlap_documents"] == 0
    assert sources["web_all"]["pool_documents"] == crawled.filter(pl.col("lang") == "zh").height
    assert result.rows.group_by("doc_id", "copy").len()["len"].max() == 1


def test_a_doc_id_held_twice_by_the_corpus_counts_once_and_is_recorded(sample_frames, tmp_path):
    crawled, synthetic = sample_frames
    frame = with_sources(crawled, synthetic)
    once = write_corpus(frame, tmp_path / "once")
    twice = write_corpus(pl.concat([frame, frame.filter(pl.col("lang").is_in(["en", "de"])).head(25)]), tmp_path / "twice")
    clean, repeated = build(THREE_SOURCES, once), build(THREE_SOURCES, twice)
    assert repeated.manifest["inputs"]["corpus"]["duplicate_doc_id_rows"] == 25
    assert clean.manifest["inputs"]["corpus"]["duplicate_doc_id_rows"] == 0
    assert repeated.rows.equals(clean.rows)  # the same documents, each once
