"""fastText training and prediction on real text of the sample: several seeds, determinism, the NaN
fallback, save and load."""

import numpy as np
import pytest

from corpus_assets.core.scoring.fasttext_model import (
    FastTextParams,
    FitJob,
    _train_in_fresh_process,
    _training_env,
    auto_epochs,
    load_classifier,
    predict_positive,
    train_classifier,
    train_classifiers,
)
from corpus_assets.core.scoring.labels import build_labels
from corpus_assets.core.scoring.metrics import roc_auc
from corpus_assets.core.scoring.text import model_texts


@pytest.fixture(scope="module")
def labelled(sample_corpus):
    frame = build_labels(sample_corpus, None).frame
    return model_texts(frame["text"].to_list(), frame["lang"].to_list()), frame["label"].to_numpy()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_training_on_real_text_gives_finite_probabilities_that_separate_the_classes(labelled, seed):
    texts, labels = labelled
    assert len(texts) > 200 and 0 < labels.sum() < len(labels)
    classifier = train_classifier(texts, labels, FastTextParams(seed=seed))
    assert classifier.nan_retries == 0 and classifier.lr_used == FastTextParams().lr
    probs = classifier.predict_positive(texts)
    assert np.isfinite(probs).all() and probs.min() >= 0.0 and probs.max() <= 1.0
    assert roc_auc(labels, probs) > 0.9  # it learned its training labels


def test_training_is_deterministic_for_a_seed(labelled):
    texts, labels = labelled
    first = train_classifier(texts, labels, FastTextParams(seed=7)).predict_positive(texts)
    again = train_classifier(texts, labels, FastTextParams(seed=7)).predict_positive(texts)
    other = train_classifier(texts, labels, FastTextParams(seed=8)).predict_positive(texts)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_repeated_fits_in_one_training_process_are_identical_and_never_diverge(labelled):
    # a batch's fits share one process; glibc used to hand a freed model's matrix to the next fit as its
    # "zeroed" weights: from the third fit on, NaNs (and, at times, a different model)
    texts, labels = labelled
    everything = np.arange(len(texts))
    fits = train_classifiers(texts, labels, [FitJob(everything, score=everything)] * 6, FastTextParams(seed=2))
    assert [fit.nan_retries for fit in fits] == [0] * 6
    assert all(np.array_equal(fit.scores, fits[0].scores) for fit in fits)
    assert roc_auc(labels, fits[0].scores) > 0.9


def test_a_batch_scores_each_fits_held_out_rows_and_returns_the_kept_models(labelled):
    texts, labels = labelled
    rows = np.arange(len(texts))
    first, second = rows[rows % 2 == 0], rows[rows % 2 == 1]
    out_of_fold, kept = train_classifiers(texts, labels, [FitJob(first, score=second), FitJob(rows, keep=True)])
    assert out_of_fold.classifier is None and out_of_fold.scores.shape == (len(second),)
    assert kept.scores.shape == (0,) and kept.classifier is not None
    alone = train_classifier([texts[i] for i in first], labels[first]).predict_positive([texts[i] for i in second])
    assert np.array_equal(out_of_fold.scores, alone)  # as a fit of its own gives


def test_diverging_training_restarts_in_a_fresh_process_then_with_a_lower_learning_rate(labelled):
    texts, labels = labelled
    classifier = train_classifier(texts[:60] + texts[-60:], np.r_[labels[:60], labels[-60:]], FastTextParams(lr=1000.0))
    assert classifier.nan_retries >= 2  # a fresh process at lr 1000 diverges as well
    assert classifier.lr_used == pytest.approx(1000.0 * 0.25 ** (classifier.nan_retries - 1))
    assert np.isfinite(classifier.predict_positive(texts)).all()


def test_a_fresh_process_trains_the_same_model(labelled, tmp_path):
    texts, labels = labelled
    path = tmp_path / "train.txt"
    path.write_text("".join(f"__label__{y} {t}\n" for t, y in zip(texts, labels)), encoding="utf-8")
    params = FastTextParams(epoch=auto_epochs(len(texts)))
    fresh = _train_in_fresh_process(str(path), params)
    assert np.array_equal(predict_positive(fresh, texts), train_classifier(texts, labels, params).predict_positive(texts))


def test_the_training_process_gets_the_work_settings_and_keeps_other_glibc_tunables(monkeypatch):
    # the model is the same bit for bit: test_a_fresh_process_trains_the_same_model trains without them
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.check=0")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    assert _training_env()["GLIBC_TUNABLES"] == "glibc.malloc.check=0:glibc.malloc.hugetlb=1"
    assert _training_env()["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.delenv("GLIBC_TUNABLES")
    assert _training_env()["GLIBC_TUNABLES"] == "glibc.malloc.hugetlb=1"
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=0")  # the user's own choice stays
    assert _training_env()["GLIBC_TUNABLES"] == "glibc.malloc.hugetlb=0"


def test_a_saved_model_predicts_the_same(labelled, tmp_path):
    texts, labels = labelled
    classifier = train_classifier(texts, labels)
    classifier.save(tmp_path / "m.bin")
    assert np.array_equal(predict_positive(load_classifier(tmp_path / "m.bin"), texts), classifier.predict_positive(texts))


def test_training_needs_both_classes(labelled):
    texts, _ = labelled
    with pytest.raises(ValueError, match="both classes"):
        train_classifier(texts[:10], [1] * 10)


def test_epochs_grow_for_small_label_sets_and_stay_at_the_fasttext_default_for_large_ones():
    assert auto_epochs(300) == 25
    assert auto_epochs(25_000) == 10
    assert auto_epochs(1_000_000) == 5
