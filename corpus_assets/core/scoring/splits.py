"""Deterministic splits from hashes of ids, so every model version holds out the same documents.

A document is held out when the hash of its doc_id falls below the held-out fraction. The salt is fixed,
so a held-out document is never trained on by any version: a bootstrap model and a later rating-trained
model can be compared on the same held-out labels without either having seen them.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

HELDOUT_SALT = "quality-heldout-v1"
FOLD_SALT = "quality-fold-v1"
HOST_FOLD_SALT = "quality-host-fold-v1"


def unit_hash(key: str, salt: str) -> float:
    """A number in [0, 1) that depends only on `salt` and `key`."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8, person=salt.encode("utf-8")[:16]).digest()
    return int.from_bytes(digest, "big") / 2**64


def unit_hashes(keys: Sequence[str], salt: str) -> np.ndarray:
    return np.fromiter((unit_hash(key, salt) for key in keys), dtype=np.float64, count=len(keys))


def heldout_mask(doc_ids: Sequence[str], fraction: float) -> np.ndarray:
    """True for the documents held out from training (about `fraction` of them)."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"held-out fraction must be in (0, 1), got {fraction}")
    return unit_hashes(doc_ids, HELDOUT_SALT) < fraction


def folds(keys: Sequence[str], n_folds: int, salt: str = FOLD_SALT) -> np.ndarray:
    """Fold number in [0, n_folds) per key; equal keys (e.g. one host) share a fold."""
    if n_folds < 2:
        raise ValueError(f"need at least 2 folds, got {n_folds}")
    return np.minimum((unit_hashes(keys, salt) * n_folds).astype(np.int64), n_folds - 1)
