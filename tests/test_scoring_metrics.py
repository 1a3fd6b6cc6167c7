"""Held-out measures against values known by construction or computed by hand."""
import numpy as np
import pytest

from corpus_assets.core.scoring.metrics import (
    auc_by_group,
    average_ranks,
    bootstrap_auc_interval,
    expected_calibration_error,
    host_baseline_scores,
    roc_auc,
    spearman,
)


def test_average_ranks_share_ties():
    assert average_ranks(np.array([0.3, 0.1, 0.3, 0.2])).tolist() == [3.5, 1.0, 3.5, 2.0]


def test_auc_of_perfect_reversed_tied_and_hand_computed_rankings():
    labels = np.array([0, 0, 1, 1])
    assert roc_auc(labels, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert roc_auc(labels, np.array([0.9, 0.8, 0.2, 0.1])) == 0.0
    assert roc_auc(labels, np.full(4, 0.5)) == 0.5
    # pairs (pos, neg): (0.35>0.1) (0.35<0.4) (0.8>0.1) (0.8>0.4) -> 3 of 4
    assert roc_auc(labels, np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert roc_auc(np.array([1, 1]), np.array([0.2, 0.3])) is None


def test_bootstrap_interval_is_seeded_and_contains_the_auc():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 400)
    scores = labels * 0.3 + rng.uniform(0, 1, 400)
    auc = roc_auc(labels, scores)
    low, high = bootstrap_auc_interval(labels, scores, resamples=300, seed=5)
    assert low < auc < high and 0.02 < high - low < 0.2
    assert bootstrap_auc_interval(labels, scores, resamples=300, seed=5) == (low, high)
    assert bootstrap_auc_interval(labels, scores, resamples=300, seed=6) != (low, high)
    assert bootstrap_auc_interval(np.ones(5), scores[:5]) is None


def test_spearman_known_values():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert spearman(x, x**3) == pytest.approx(1.0)
    assert spearman(x, -x) == pytest.approx(-1.0)
    # ranks of y: [2, 1, 4, 3, 5]: d^2 sums to 4 -> rho = 1 - 6*4 / (5*24) = 0.8
    assert spearman(x, np.array([2.0, 1.0, 4.0, 3.0, 5.0])) == pytest.approx(0.8)
    assert spearman(x, np.ones(5)) is None


def test_ece_of_a_calibrated_toy_is_zero_and_of_an_overconfident_one_is_the_gap():
    # in each bin the positive rate equals the score: 0.25 -> 1 of 4, 0.75 -> 3 of 4
    scores = np.array([0.25] * 4 + [0.75] * 4)
    labels = np.array([1, 0, 0, 0, 1, 1, 1, 0])
    assert expected_calibration_error(labels, scores) == pytest.approx(0.0)
    # says 0.95 where half are positive: gap 0.45 on every document
    assert expected_calibration_error(np.array([1, 0, 1, 0]), np.full(4, 0.95)) == pytest.approx(0.45)
    # two bins of different sizes: |0.1 - 0| * 3/4 + |0.9 - 0| * 1/4
    assert expected_calibration_error(np.array([0, 0, 0, 0]), np.array([0.1, 0.1, 0.1, 0.9])) == pytest.approx(0.3)


def test_host_baseline_knows_only_hosts_and_falls_back_to_the_overall_rate():
    train_hosts = ["docs.example", "docs.example", "spam.example", "spam.example", "mixed.example"]
    train_labels = np.array([1, 1, 0, 0, 1])
    scores = host_baseline_scores(train_hosts, train_labels, ["docs.example", "spam.example", "new.example"])
    prior = 3 / 5
    assert scores.tolist() == pytest.approx([(2 + prior) / 3, (0 + prior) / 3, prior])
    # a held-out set whose labels follow the host exactly: the baseline ranks it perfectly
    assert roc_auc(np.array([1, 0]), scores[:2]) == 1.0


def test_auc_by_group():
    groups = ["en", "en", "en", "en", "de", "de"]
    result = auc_by_group(groups, np.array([0, 1, 0, 1, 1, 1]), np.array([0.1, 0.9, 0.2, 0.8, 0.5, 0.6]))
    assert result == {"de": None, "en": 1.0}
