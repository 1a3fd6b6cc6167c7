"""Calibration: pool-adjacent-violators, isotonic and Platt maps, the choice between them."""
import numpy as np
import pytest

from corpus_assets.core.scoring.calibration import (
    Calibrator,
    fit_calibrator,
    fit_isotonic,
    fit_platt,
    pool_adjacent_violators,
)
from corpus_assets.core.scoring.metrics import expected_calibration_error, roc_auc


def miscalibrated(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Raw scores whose true positive rate is raw**3: a ranking that is right but overconfident."""
    rng = np.random.default_rng(seed)
    raw = rng.uniform(0, 1, n)
    return raw, (rng.uniform(0, 1, n) < raw**3).astype(int)


def test_pool_adjacent_violators_known_values():
    assert pool_adjacent_violators(np.array([1.0, 3.0, 2.0, 4.0]), np.ones(4)).tolist() == [1.0, 2.5, 2.5, 4.0]
    assert pool_adjacent_violators(np.array([3.0, 2.0, 1.0]), np.array([1.0, 1.0, 2.0])).tolist() == [1.75] * 3
    assert pool_adjacent_violators(np.array([0.0, 1.0]), np.ones(2)).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("fit", [fit_isotonic, fit_platt])
def test_calibration_is_monotone_in_unit_interval_and_fixes_overconfidence(fit):
    raw, labels = miscalibrated(5000)
    calibrator = fit(raw, labels)
    grid = np.linspace(-0.5, 1.5, 2001)  # also outside [0, 1]
    out = calibrator.apply(grid)
    assert (np.diff(out) >= 0).all()
    assert out.min() >= 0.0 and out.max() <= 1.0
    test_raw, test_labels = miscalibrated(5000, seed=1)
    before = expected_calibration_error(test_labels, test_raw)
    after = expected_calibration_error(test_labels, calibrator.apply(test_raw))
    assert before > 0.15 and after < 0.05
    assert roc_auc(test_labels, calibrator.apply(test_raw)) == pytest.approx(roc_auc(test_labels, test_raw), abs=0.01)


def test_isotonic_keeps_equal_raw_scores_equal_and_interpolates_between_steps():
    calibrator = fit_isotonic(np.array([0.1, 0.1, 0.4, 0.8, 0.8]), np.array([0, 1, 0, 1, 1]))
    # raw 0.1 has labels {0, 1} (mean 1/2), 0.4 has {0}: a violation, pooled to 1/3; 0.8 has {1, 1}
    out = calibrator.apply(np.array([0.0, 0.1, 0.4, 0.6, 0.8, 1.0]))
    assert out == pytest.approx([1 / 3, 1 / 3, 1 / 3, 2 / 3, 1.0, 1.0])


def test_platt_never_reverses_the_ranking_of_an_anticorrelated_model():
    raw, labels = miscalibrated(2000)
    calibrator = fit_platt(raw, 1 - labels)
    assert calibrator.params["a"] == 0.0
    out = calibrator.apply(np.array([0.1, 0.5, 0.9]))
    assert out[0] == out[1] == out[2]
    assert out[0] == pytest.approx((1 - labels).mean(), abs=0.01)


def test_method_depends_on_the_number_of_calibration_labels():
    raw, labels = miscalibrated(3000)
    assert fit_calibrator(raw, labels).method == "isotonic"
    assert fit_calibrator(raw[:999], labels[:999]).method == "platt"
    assert fit_calibrator(raw[:999], labels[:999], isotonic_min_labels=500).method == "isotonic"
    one_class = fit_calibrator(raw[:50], np.ones(50, dtype=int))
    assert one_class.method == "identity" and one_class.apply(np.array([0.3])).tolist() == [0.3]


def test_calibrator_round_trips_through_json():
    raw, labels = miscalibrated(1500)
    for calibrator in (fit_isotonic(raw, labels), fit_platt(raw, labels)):
        again = Calibrator.from_json(calibrator.to_json())
        assert np.array_equal(again.apply(raw), calibrator.apply(raw))
    with pytest.raises(ValueError, match="unknown calibration method"):
        Calibrator("magic").apply(raw)


def test_platt_converges_on_confident_scores_and_keeps_their_order():
    """Overconfident raw scores (fastText after many epochs on few ratings): logits far from 0 and a
    weak relation to the labels. A plain Newton step overshot here (slope 1e11: every score 0 or 1)."""
    rng = np.random.default_rng(4)
    logits = rng.normal(8.0, 4.0, 400)
    labels = (rng.uniform(size=400) < 0.6 + 0.3 * (logits > 8)).astype(int)
    raw = 1.0 / (1.0 + np.exp(-logits))
    calibrator = fit_platt(raw, labels)
    assert 0.0 < calibrator.params["a"] < 10.0
    out = calibrator.apply(raw)
    assert roc_auc(labels, out) == pytest.approx(roc_auc(labels, raw))  # no ties introduced
    assert len(np.unique(out)) == len(np.unique(raw))
    assert expected_calibration_error(labels, out) < 0.1
