"""The filter config's `quality` section and the cut `decisions` applies with it (pure functions)."""
import copy

import pytest
import yaml

from corpus_assets.core.quality.filter_config import FilterConfigError, config_hash, load_filter_config, parse_filter_config
from corpus_assets.core.quality.quality_cut import quality_cut, rule_for
from corpus_assets.core.scoring.thresholds import ALL_LANGUAGES
from warc_fixtures import REPO

CONFIG = REPO / "configs" / "filters.yaml"


@pytest.fixture(scope="module")
def base():
    return yaml.safe_load(CONFIG.read_text())


def with_quality(base, quality):
    data = copy.deepcopy(base)
    data["quality"] = quality
    return parse_filter_config(data, "filters.yaml")


def test_configs_without_a_quality_section_keep_their_hash(base):
    packaged = load_filter_config(CONFIG)
    assert packaged.quality_rules == {} and rule_for(packaged, "en") is None
    assert config_hash(with_quality(base, None)) == config_hash(packaged)
    assert config_hash(with_quality(base, {"top_token_fraction": 0.7})) != config_hash(packaged)


def test_language_rules_replace_the_default_and_nulls_switch_the_cut_off(base):
    config = with_quality(base, {"top_token_fraction": 0.7, "min_score": 0.2,
                                 "languages": {"de": {"min_score": 0.5}, "ko": {"top_token_fraction": None}}})
    assert (rule_for(config, "en").top_token_fraction, rule_for(config, "en").min_score) == (0.7, 0.2)
    assert (rule_for(config, "DE").top_token_fraction, rule_for(config, "de").min_score) == (None, 0.5)
    assert rule_for(config, "ko") is None


@pytest.mark.parametrize("quality, message", [
    ({"top_token_fraction": 1.5}, "quality.top_token_fraction: is a fraction and must be within [0, 1], got 1.5"),
    ({"top_token_fraction": 0}, "quality.top_token_fraction: must be > 0"),
    ({"languages": {"zh": {"min_scor": 0.3}}}, "quality.languages.zh.min_scor: unknown key 'min_scor' (did you mean 'min_score'?)"),
    ({"languages": {"zh": 3}}, "quality.languages.zh: must be a mapping with 'top_token_fraction' and/or 'min_score'"),
    ("strict", "quality: must be a mapping"),
])
def test_a_malformed_quality_section_is_one_line(base, quality, message):
    with pytest.raises(FilterConfigError) as error:
        with_quality(base, quality)
    assert str(error.value).startswith(f"filters.yaml: {message}") and "\n" not in str(error.value)


def test_the_cut_names_the_threshold_that_applied(base):
    # percentiles: score at each percent of tokens; en's p70 = 0.7, the pooled table's p70 = 0.6
    percentiles = {"en": [i / 100 for i in range(101)], ALL_LANGUAGES: [0.6 * i / 70 if i <= 70 else 0.6 for i in range(101)]}
    config = with_quality(base, {"top_token_fraction": 0.3, "languages": {"de": {"min_score": 0.5},
                                                                          "fr": {"top_token_fraction": 0.3, "min_score": 0.9}}})
    cut = quality_cut(["a", "b", "c", "d", "e", "f"], ["en", "en", "de", "fr", "sv", None],
                      [0.75, 0.65, 0.4, 0.8, 0.61, None], config, percentiles)
    rows = {row["doc_id"]: row for row in cut.iter_rows(named=True)}
    assert rows["a"]["quality_rule"] == "top_token_fraction=0.3@en" and rows["a"]["quality_passes"]
    assert rows["a"]["quality_threshold"] == pytest.approx(0.7) and not rows["b"]["quality_passes"]
    assert rows["c"]["quality_rule"] == "min_score=0.5" and not rows["c"]["quality_passes"]
    assert rows["d"]["quality_rule"] == "min_score=0.9" and not rows["d"]["quality_passes"]  # the stricter of the two
    assert rows["e"]["quality_rule"] == "top_token_fraction=0.3@*" and rows["e"]["quality_passes"]
    assert rows["f"]["quality_threshold"] is not None and not rows["f"]["quality_passes"]  # no score never passes


def test_no_rule_passes_everything_and_relative_rules_need_thresholds(base):
    cut = quality_cut(["a"], ["en"], [0.01], load_filter_config(CONFIG), None)
    assert cut.row(0) == ("a", None, None, True)
    with pytest.raises(ValueError, match="no stored thresholds"):
        quality_cut(["a"], ["en"], [0.01], with_quality(base, {"top_token_fraction": 0.5}), None)
    assert quality_cut(["a"], ["en"], [0.01], with_quality(base, {"min_score": 0.5}), None).row(0)[3] is False
