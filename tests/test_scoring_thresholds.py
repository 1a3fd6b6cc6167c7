"""Token-weighted score percentiles per language, and which threshold applies to a document."""
import numpy as np
import pytest

from corpus_assets.core.scoring.thresholds import (
    ALL_LANGUAGES,
    QualityRule,
    apply_thresholds,
    token_weighted_percentiles,
    weighted_percentiles,
)


def test_weighted_percentiles_follow_tokens_not_documents():
    # one long document (900 tokens) at 0.2 and nine short ones (100 tokens together) at 0.9
    scores = np.array([0.2] + [0.9] * 9)
    weights = np.array([900.0] + [100.0 / 9] * 9)
    table = weighted_percentiles(scores, weights)
    assert len(table) == 101
    assert table[0] == 0.2 and table[89] == 0.2  # 90 % of the tokens score 0.2
    assert table[91] == 0.9 and table[100] == 0.9
    assert (np.diff(table) >= 0).all()
    with pytest.raises(ValueError):
        weighted_percentiles(np.array([]), np.array([]))


def test_top_token_fraction_keeps_about_that_share_of_each_languages_tokens():
    rng = np.random.default_rng(0)
    n = 4000
    langs = np.where(rng.uniform(size=n) < 0.5, "en", "zh")
    scores = np.where(langs == "en", rng.beta(5, 2, n), rng.beta(2, 5, n))  # zh scores lower overall
    weights = rng.integers(100, 5000, n).astype(float)
    table = token_weighted_percentiles(scores, weights, langs.tolist())
    applied = apply_thresholds(scores, langs.tolist(), table, QualityRule(top_token_fraction=0.3))
    for lang in ("en", "zh"):
        mine = langs == lang
        kept_share = weights[mine & applied.passes].sum() / weights[mine].sum()
        assert kept_share == pytest.approx(0.3, abs=0.01)
    assert set(applied.rule) == {"top_token_fraction=0.3@en", "top_token_fraction=0.3@zh"}
    assert applied.threshold[langs == "zh"][0] < applied.threshold[langs == "en"][0]


def test_small_languages_use_the_percentiles_of_all_languages():
    scores = np.r_[np.linspace(0, 1, 50), [0.99, 0.98]]
    langs = ["en"] * 50 + ["ko", "ko"]
    table = token_weighted_percentiles(scores, np.ones(52), langs, min_docs=20)
    assert set(table) == {ALL_LANGUAGES, "en"}
    applied = apply_thresholds(scores, langs, table, QualityRule(top_token_fraction=0.5))
    assert applied.rule[-1] == "top_token_fraction=0.5@*"
    assert applied.threshold[-1] == pytest.approx(np.interp(50, np.arange(101), table[ALL_LANGUAGES]))


def test_min_score_and_the_stricter_of_two_thresholds_and_rules_per_language():
    scores = np.array([0.1, 0.5, 0.9, 0.2, 0.95])
    langs = ["de", "de", "de", "ja", "ja"]
    table = {ALL_LANGUAGES: np.linspace(0, 1, 101).tolist(), "de": np.linspace(0, 0.5, 101).tolist()}
    applied = apply_thresholds(scores, langs, table, QualityRule(min_score=0.4, top_token_fraction=0.5),
                               {"ja": QualityRule(min_score=0.9)})
    # de: top 50 % is score >= 0.25, min_score 0.4 is stricter; ja has its own rule
    assert applied.rule == ["min_score=0.4"] * 3 + ["min_score=0.9"] * 2
    assert applied.passes.tolist() == [False, True, True, False, True]
    loose = apply_thresholds(scores, langs, table, QualityRule(min_score=0.1, top_token_fraction=0.5))
    assert loose.rule[:3] == ["top_token_fraction=0.5@de"] * 3 and loose.threshold[0] == pytest.approx(0.25)


@pytest.mark.parametrize("kwargs", [{}, {"top_token_fraction": 0.0}, {"top_token_fraction": 1.5}, {"min_score": -0.1}])
def test_invalid_rules_are_rejected(kwargs):
    with pytest.raises(ValueError):
        QualityRule(**kwargs)
