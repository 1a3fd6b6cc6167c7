"""Mixture specs: the shipped examples load, bad specs fail with one line (file, field, problem),
`where` accepts predicates only, the hash follows what determines the rows, real-only siblings."""
from pathlib import Path

import pytest
import yaml

from corpus_assets.core.mixtures.errors import MixtureSpecError
from corpus_assets.core.mixtures.predicate import PredicateError, validate_where
from corpus_assets.core.mixtures.spec import load_spec, load_specs, parse_spec, real_only
from corpus_assets.core.mixtures.tokens import train_bpe_tokenizer

REPO = Path(__file__).resolve().parents[1]
VALID = {"name": "m", "seed": 1, "token_budget": 1000,
         "sources": [{"name": "a", "where": "lang = 'en'", "weight": 0.7},
                     {"name": "s", "where": "source = 'gen'", "weight": 0.3, "synthetic": True, "max_share": 0.3}]}


def write_spec(folder: Path, data: dict | str, name: str = "m") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_shipped_examples_load_with_their_real_only_sibling():
    specs = load_specs(REPO / "mixtures")
    assert {"web-en-zh-v1", "web-en-zh-v1-real-only", "web-curriculum-v1"} <= set(specs)
    curriculum = specs["web-curriculum-v1"]
    assert [stage.name for stage in curriculum.plan()] == ["major", "low-resource"]
    assert [s.name for s in curriculum.plan()[1].sources] == ["web_zh", "web_other"]
    assert curriculum.plan()[1].sources[0].max_epochs == 3  # inherited from the top-level source
    assert specs["web-en-zh-v1"].has_synthetic and not specs["web-en-zh-v1-real-only"].has_synthetic


def with_changes(**changes) -> dict:
    data = yaml.safe_load(yaml.safe_dump(VALID))
    for path, value in changes.items():
        target = data
        *parents, last = path.split("__")
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
    return data


_DELETE = object()
BAD_SPECS = [
    (with_changes(sources__0__weight=-1), "sources[0].weight", "greater than 0"),
    (with_changes(sources__0__weight="0.5"), "sources[0].weight", "valid number"),
    (with_changes(sources__0__colour="red"), "sources[0].colour", "unknown field"),
    (with_changes(seed=_DELETE), "seed", "required"),
    (with_changes(token_budget=_DELETE), "token_budget", "required when the spec has no stages"),
    (with_changes(sources__1__max_share=_DELETE), "sources[1].max_share", "required for a synthetic source"),
    (with_changes(sources__1__max_share=0.1), "sources[1].max_share", "30.00% of the tokens"),
    (with_changes(sources__0__max_share=0.5), "sources[0].max_share", "only applies to a source with `synthetic: true`"),
    (with_changes(sources__1__name="a"), "sources[1].name", "duplicate source name 'a'"),
    (with_changes(sources__0__max_epochs=0), "sources[0].max_epochs", "greater than or equal to 1"),
    (with_changes(sources__1__min_spot_check_rating=7), "sources[1].min_spot_check_rating", "less than or equal to 5"),
    (with_changes(name="Web EN"), "name", "should match pattern"),
    (with_changes(sources__0__where="lang = 'en'; DROP TABLE corpus"), "sources[0].where", "not a valid SQL predicate"),
    (with_changes(tokenizer="no/such/tokenizer.json"), "tokenizer", "does not exist"),
    (with_changes(stages=[{"name": "x", "token_budget": 10, "sources": ["nope"]}]), "stages[0].sources[0]",
     "'nope' is not a top-level source"),
    (with_changes(stages=[{"name": "x", "token_budget": 10, "sources": ["a"]}]), "token_budget",
     "must equal the sum of the stages' budgets (10)"),
    (with_changes(token_budget=_DELETE, stages=[{"name": "x", "token_budget": 10, "sources": ["a"]},
                                               {"name": "x", "token_budget": 10, "sources": ["a"]}]),
     "stages[1].name", "duplicate stage name 'x'"),
    (with_changes(token_budget=_DELETE, stages=[{"name": "x", "token_budget": 10, "sources": []}]),
     "stages[0].sources", "at least 1 item"),
    ("name: m\nseed: [1\n", "(yaml)", "not valid YAML at line"),
    ("- just\n- a list\n", "(top level)", "must be a mapping"),
    (with_changes(name="other"), "name", "must equal the file name 'm'"),
]


@pytest.mark.parametrize(("data", "field", "problem"), BAD_SPECS, ids=[case[1] + ":" + case[2][:20] for case in BAD_SPECS])
def test_a_bad_spec_fails_with_one_line_naming_file_field_and_problem(tmp_path, data, field, problem):
    path = write_spec(tmp_path, data)
    with pytest.raises(MixtureSpecError) as caught:
        load_spec(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {field}: ")
    assert problem in message


INJECTIONS = [
    "lang = 'en'; DROP TABLE corpus",
    "lang = 'en'); DELETE FROM corpus; SELECT (1",
    "lang = 'en') UNION SELECT * FROM read_csv('/etc/passwd') WHERE (true",
    "lang = 'en') OR (true",
    "doc_id IN (SELECT doc_id FROM read_parquet('/tmp/x.parquet'))",
    "EXISTS (SELECT * FROM glob('/etc/*'))",
    "doc_id = (SELECT max(doc_id) FROM corpus)",
    "COPY corpus TO '/tmp/stolen.csv'",
    "ATTACH '/tmp/other.db' AS other",
    "PRAGMA database_list",
    "getenv('HOME') IS NOT NULL",
    "current_setting('threads') > 0",
    "random() < 0.5",
    "now() > TIMESTAMP '2020-01-01'",
    "lang = $1",
    "count(*) > 0",
    "lang = 'en' /* unterminated",
    "",
]


@pytest.mark.parametrize("where", INJECTIONS)
def test_where_rejects_anything_but_a_read_only_predicate(where):
    with pytest.raises(PredicateError):
        validate_where(where)


# the ATTACH one parses as a typed literal in a spec; DuckDB rejects it when the predicate is bound
@pytest.mark.parametrize("where", [where for where in INJECTIONS if where != "ATTACH '/tmp/other.db' AS other"])
def test_a_spec_whose_where_is_not_a_read_only_predicate_is_refused(where):
    with pytest.raises(MixtureSpecError, match=r"sources\[0\]\.where"):
        parse_spec(with_changes(sources__0__where=where))


@pytest.mark.parametrize("where", [
    "lang = 'en' AND quality_score >= 0.5",
    "lang IN ('ja', 'ko') OR (lang = 'zh' AND n_chars BETWEEN 200 AND 50000)",
    "url LIKE '%;%' AND title IS NOT NULL",
    "NOT synthetic AND starts_with(url_host, 'www.')",
    "CASE WHEN lang = 'de' THEN n_chars > 500 ELSE true END",
    "md5(doc_id) < '4'  -- a fixed quarter of the documents",
    "regexp_matches(url, '\\.(org|edu)/')",
])
def test_where_accepts_ordinary_predicates(where):
    validate_where(where)


def test_the_hash_follows_what_determines_the_rows(tmp_path):
    base = parse_spec(VALID)
    assert parse_spec(with_changes(description="words only")).spec_hash == base.spec_hash
    assert parse_spec(with_changes(sources__0__max_epochs=1)).spec_hash == base.spec_hash  # the default, spelled out
    for change in ({"seed": 2}, {"token_budget": 999}, {"sources__0__weight": 0.71},
                   {"sources__0__where": "lang = 'de'"}, {"allow_shortfall": True}):
        assert parse_spec(with_changes(**change)).spec_hash != base.spec_hash, change
    # a tokenizer counts by its content, not its path
    texts = ["a small text to train on", "noch ein kleiner Text"] * 20
    first = train_bpe_tokenizer(texts, 300, tmp_path / "one.json")
    (tmp_path / "copy").mkdir()
    second = (tmp_path / "copy" / "two.json")
    second.write_bytes(first.read_bytes())
    one = parse_spec(with_changes(tokenizer="one.json"), base_dir=tmp_path)
    two = parse_spec(with_changes(tokenizer="copy/two.json"), base_dir=tmp_path)
    assert one.spec_hash == two.spec_hash != base.spec_hash
    assert one.tokenizer_path == first.resolve()


def test_real_only_sibling_gives_synthetic_shares_back_in_proportion():
    spec = parse_spec({"name": "m", "seed": 3, "token_budget": 1000, "sources": [
        {"name": "a", "where": "lang = 'en'", "weight": 0.6, "max_epochs": 2},
        {"name": "b", "where": "lang = 'zh'", "weight": 0.3},
        {"name": "s", "where": "synthetic", "weight": 0.1, "synthetic": True, "max_share": 0.1}]})
    sibling = real_only(spec)
    assert sibling.name == "m-real-only" and sibling.derived_from == "m" and sibling.order_name == "m"
    stage = sibling.plan()[0]
    assert stage.token_budget == 1000 and [s.name for s in stage.sources] == ["a", "b"]
    weights = stage.normalised_weights()
    assert weights["a"] == pytest.approx(2 / 3) and weights["b"] == pytest.approx(1 / 3)
    assert stage.sources[0].max_epochs == 2
    assert sibling.spec_hash != spec.spec_hash


def test_real_only_of_a_stage_with_only_synthetic_sources_is_refused():
    spec = parse_spec({"name": "m", "seed": 3, "stages": [
        {"name": "one", "token_budget": 10, "sources": [{"name": "a", "where": "true", "weight": 1}]},
        {"name": "two", "token_budget": 10, "sources": [
            {"name": "s", "where": "synthetic", "weight": 1, "synthetic": True, "max_share": 1}]}]})
    with pytest.raises(MixtureSpecError, match="stages.two: has only synthetic sources"):
        real_only(spec)
