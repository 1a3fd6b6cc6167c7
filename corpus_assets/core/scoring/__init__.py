"""Model-based quality: labels, a calibrated fastText classifier, versioned model files, thresholds and
rating sheets. Pure functions and small classes, no Dagster: the `quality_model` / `quality_scores`
assets, the `corpus rate` commands and the rating page are thin wrappers around this package.

One concern per module:

* `text`            the model's input text (segmented as the signals stage segments it)
* `fasttext_model`  train a fastText classifier, predict probabilities
* `splits`          deterministic held-out / fold assignment from hashes of ids
* `labels`          label sources: ratings, or the DCLM-style bootstrap
* `calibration`     isotonic (pool-adjacent-violators) or Platt scaling
* `metrics`         ROC AUC with a bootstrap interval, Spearman, ECE, the host-only baseline
* `training`        labels -> per-language models + calibration + metrics (a `TrainedQualityModel`)
* `scorer`          texts -> calibrated `quality_score`, `quality_bucket`, `model_version`
* `registry`        versioned model files next to the warehouse, records for `quality_models`, activation
* `thresholds`      token-weighted score percentiles per language, and which threshold applies
* `sheets`          rating sheets: export, import validation, rows for `quality_ratings`
* `ratings_table`   the Delta table `quality_ratings`: one import path (sheet files, the rating page), appended once
"""
