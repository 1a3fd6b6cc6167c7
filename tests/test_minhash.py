"""MinHash signatures / band keys (corpus_assets.core.dedup.minhash) and exact-dedup hashing
(corpus_assets.core.dedup.text)."""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from corpus_assets.core.dedup.text import (
    EMPTY_TEXT_HASH,
    add_text_hash,
    line_hashes,
    normalize_for_hash,
    text_hash,
)
from corpus_assets.core.dedup.minhash import (
    MinHasher,
    band_keys,
    estimate_jaccard,
    minhash_batch,
    minhash_docs,
    minhash_tables,
    signature,
    signatures_from_binary,
)

FIXTURES = Path(__file__).parent / "fixtures" / "neardup"

# Real Chinese paragraphs (zh translation of the Debian Administrator's Handbook, from the sample crawl).
ZH_1, ZH_2, ZH_3 = [
    line for line in (FIXTURES / "zh_paragraphs.txt").read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")
]
# ZH_1 with four characters edited (规则->规定, 简单->容易, 相同->一致)
ZH_1_EDITED = ZH_1.replace("Debian 规则", "Debian 规定").replace("很简单", "很容易").replace("校验和相同", "校验和一致")


def load_articles() -> tuple[dict[str, str], set[tuple[str, str]]]:
    docs = {}
    for line in (FIXTURES / "articles_1000.train").read_text().splitlines():
        doc_id, text = line.split(" ", 1)
        docs[doc_id] = text
    truth = set()
    for line in (FIXTURES / "articles_1000.truth").read_text().splitlines():
        if line.strip():
            a, b = line.split()
            truth.add((min(a, b), max(a, b)))
    return docs, truth


@pytest.fixture(scope="module")
def hasher() -> MinHasher:
    return MinHasher()


@pytest.fixture(scope="module")
def articles():
    return load_articles()


def true_jaccard(h: MinHasher, a: str, b: str, lang=None) -> float:
    sa, sb = h.shingle_hashes(a, lang), h.shingle_hashes(b, lang)
    inter = np.intersect1d(sa, sb).size
    return inter / (sa.size + sb.size - inter)


# --------------------------------------------------------------------------- signatures


def test_signature_shape_dtype_and_determinism(hasher, articles):
    docs, _ = articles
    text = docs["t120"]
    sig = hasher.signature(text)
    assert sig.shape == (112,) and sig.dtype == np.uint32
    assert np.array_equal(sig, MinHasher().signature(text))
    assert np.array_equal(sig, signature(text))
    assert not np.array_equal(sig, MinHasher(seed=2).signature(text))
    keys = hasher.band_keys(sig)
    assert len(keys) == 14 and all(-(2**63) <= k < 2**63 for k in keys)
    assert keys == band_keys(sig)
    assert hasher.threshold == pytest.approx((1 / 14) ** (1 / 8))


def test_stable_across_processes(hasher):
    """No dependence on PYTHONHASHSEED / process state: same keys in a fresh interpreter."""
    text = "The quick brown fox jumps over the lazy dog near the river bank today"
    code = (
        "from corpus_assets.core.dedup.minhash import MinHasher;"
        f"h=MinHasher();print(h.band_keys(h.signature({text!r}))[:3])"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == str(hasher.band_keys(hasher.signature(text))[:3])


def test_golden_values(hasher):
    """Band keys are persisted in the lakehouse: changing them needs a config_id bump."""
    sig = hasher.signature("one two three four five six seven")
    assert hasher.config_id.startswith("minhash-v1-p112-b14x8-w5-c5-s1-m100000")
    assert int(sig[0]) == GOLDEN_SIG0
    assert hasher.band_keys(sig)[0] == GOLDEN_KEY0


GOLDEN_SIG0 = 19266612
GOLDEN_KEY0 = 8842789171106742712


def test_estimate_tracks_true_jaccard(hasher, articles):
    docs, truth = articles
    ids = sorted(docs)
    rng = np.random.default_rng(0)
    pairs = list(truth) + [tuple(rng.choice(ids, 2, replace=False)) for _ in range(40)]
    # plus graded near-duplicates: drop a growing share of words
    base = docs["t120"].split()
    graded = []
    for frac in (0.02, 0.05, 0.1, 0.2, 0.3):
        keep = rng.random(len(base)) > frac
        graded.append((" ".join(base), " ".join(w for w, k in zip(base, keep) if k)))
    errs = []
    for a, b in [(docs[x], docs[y]) for x, y in pairs] + graded:
        est = estimate_jaccard(hasher.signature(a), hasher.signature(b))
        errs.append(abs(est - true_jaccard(hasher, a, b)))
    errs = np.array(errs)
    # std of the estimator is sqrt(J(1-J)/112) <= 0.047
    assert errs.max() < 0.16
    assert errs.mean() < 0.03


def test_normalisation_invariance(hasher):
    a = "Hello, WORLD!  This -- is: a    test of the\nMinHash   pipeline; truly."
    b = "hello world this is a test of the minhash pipeline truly"
    assert np.array_equal(hasher.signature(a), hasher.signature(b))
    # NFKC: full-width letters == ASCII
    assert np.array_equal(hasher.signature("ｈｅｌｌｏ ｗｏｒｌｄ this is a test"), hasher.signature("hello world this is a test"))


def test_empty_and_too_short(hasher):
    for t in ["", "   \n\t", "... --- !!!", None]:
        assert hasher.signature(t) is None
        assert hasher.status(t) == "empty"
    assert hasher.status("just four words here") == "too_short"
    assert hasher.signature("just four words here") is None
    assert hasher.status("now five words are here") == "ok"
    assert hasher.status("四个汉字", "zh") == "too_short"
    assert hasher.status("五个汉字啊", "zh") == "ok"
    assert band_keys(None) == []
    assert estimate_jaccard(None, hasher.signature("now five words are here")) == 0.0

    df = pl.DataFrame(
        {
            "doc_id": ["a", "b", "c", "d"],
            "text": ["", "too short text", None, "this one is long enough to hash"],
            "lang": ["en", "en", None, "en"],
        }
    )
    t = minhash_tables(df)
    assert t.band_keys["doc_id"].unique().to_list() == ["d"]
    assert t.docs["minhash_status"].to_list() == ["empty", "too_short", "empty", "ok"]
    assert t.docs["signature"].null_count() == 3


def test_truncation(hasher):
    h = MinHasher(max_chars=1000)
    words = [f"w{i}" for i in range(2000)]
    text = " ".join(words)
    assert np.array_equal(h.signature(text), h.signature(text[:1000]))
    assert np.array_equal(h.signature(text), h.signature(text[:1000] + " completely different tail " * 50))
    assert not np.array_equal(hasher.signature(text), hasher.signature(text[:1000]))


def test_batch_equals_single(hasher, articles):
    docs, _ = articles
    texts = list(docs.values())[:50] + ["", "a b", ZH_1, ZH_2, "x " * 10]
    langs = ["en"] * 50 + [None, "en", "zh", None, "en"]
    h = MinHasher(batch_chars=20_000)  # forces several batches
    r = h.compute(texts, langs)
    signatures = [hasher.signature(t, lg) for t, lg in zip(texts, langs)]
    assert sum(s is None for s in signatures) >= 1 and sum(s is not None for s in signatures) >= 50  # both kinds
    for i, s in enumerate(signatures):  # no signature: no shingles in the batch either; else the same one
        assert (r.n_shingles[i] == 0) if s is None else np.array_equal(s, r.sigs[i]), i


def test_minhash_batch_schema_and_values(hasher, articles):
    docs, _ = articles
    ids = sorted(docs)[:20]
    df = pl.DataFrame({"doc_id": ids, "text": [docs[i] for i in ids], "lang": ["en"] * 20})
    bk = minhash_batch(df)
    assert bk.schema == pl.Schema({"doc_id": pl.String, "band": pl.Int16, "band_key": pl.Int64})
    assert bk.height == 20 * 14
    first = bk.filter(pl.col("doc_id") == ids[0]).sort("band")
    assert first["band"].to_list() == list(range(14))
    assert first["band_key"].to_list() == hasher.band_keys(hasher.signature(docs[ids[0]]))
    d = minhash_docs(df)
    sigs = signatures_from_binary(d["signature"])
    assert np.array_equal(sigs[0], hasher.signature(docs[ids[0]]))
    # lang column is optional
    assert minhash_batch(df.drop("lang")).equals(bk)


def test_band_index_is_folded_into_key(hasher):
    sig = np.zeros(112, dtype=np.uint32)  # every band has identical values
    keys = hasher.band_keys(sig)
    assert len(set(keys)) == 14


def test_identical_docs_share_all_keys_and_near_dups_some(hasher, articles):
    docs, truth = articles
    a, b = sorted(truth)[0]
    ka, kb = set(hasher.band_keys(hasher.signature(docs[a]))), set(hasher.band_keys(hasher.signature(docs[b])))
    assert ka & kb
    assert ka == set(hasher.band_keys(hasher.signature(docs[a] + "  ")))


# --------------------------------------------------------------------------- CJK


def test_cjk_uses_character_ngrams(hasher):
    # Each edited character destroys <= 5 char 5-grams; word shingles would see one giant "word".
    assert true_jaccard(hasher, ZH_1, ZH_1_EDITED, "zh") > 0.8
    est = estimate_jaccard(hasher.signature(ZH_1, "zh"), hasher.signature(ZH_1_EDITED, "zh"))
    assert est > 0.75
    assert set(hasher.band_keys(hasher.signature(ZH_1, "zh"))) & set(hasher.band_keys(hasher.signature(ZH_1_EDITED, "zh")))
    for x, y in itertools.combinations([ZH_1, ZH_2, ZH_3], 2):
        assert estimate_jaccard(hasher.signature(x, "zh"), hasher.signature(y, "zh")) < 0.2
    # mostly-Han text is shingled by characters even with a wrong / missing language id
    assert np.array_equal(hasher.signature(ZH_1, "zh"), hasher.signature(ZH_1, "en"))
    assert np.array_equal(hasher.signature(ZH_1, "zh"), hasher.signature(ZH_1, None))
    # Japanese too
    ja = "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。"
    assert hasher.status(ja, "ja") == "ok" and hasher.shingle_hashes(ja, "ja").size > 50


def test_lang_zh_forces_char_mode_on_mixed_text(hasher):
    text = "Python 3.12 发布了 new features 包括 better error messages"
    assert hasher.shingle_hashes(text, "zh").size > hasher.shingle_hashes(text, "en").size


# --------------------------------------------------------------------------- exact dedup


def test_normalize_for_hash():
    assert normalize_for_hash("  Café, CAFÉ!\n\n Page 3 of 12 ") == "cafe cafe page 0 of 0"
    assert normalize_for_hash("Page 3 of 12", keep_digits=True) == "page 3 of 12"
    assert normalize_for_hash("ＦＵＬＬ\u200bｗｉｄｔｈ") == "fullwidth"
    assert normalize_for_hash("日本語が、") == "日本語が"  # voicing marks survive
    assert normalize_for_hash("") == "" and normalize_for_hash("—!!—") == ""


def test_text_hash_stable_and_normalised():
    assert text_hash("Hello, World!") == text_hash("hello   world")
    assert text_hash("Hello, World!") != text_hash("Hello, Word!")
    assert -(2**63) <= text_hash("x") < 2**63
    assert text_hash("") == EMPTY_TEXT_HASH == text_hash(" ... ")
    # blake2b-64 of the normalised UTF-8 text, little-endian signed: pinned forever
    import hashlib

    assert text_hash("Hello") == int.from_bytes(hashlib.blake2b(b"hello", digest_size=8).digest(), "little", signed=True)
    df = add_text_hash(pl.DataFrame({"text": ["A b", "a  B!", "c"]}))
    assert df["text_hash"].dtype == pl.Int64
    assert df["text_hash"][0] == df["text_hash"][1] != df["text_hash"][2]


def test_line_hashes_alignment():
    text = "Home\n\n  MENU  \nBody line 1\n---"
    hs = line_hashes(text)
    assert len(hs) == len(text.split("\n"))
    assert hs[1] == 0 and hs[4] == 0
    assert hs[0] == line_hashes("home")[0]
    assert hs[2] == line_hashes("menu")[0]
    assert hs[3] == line_hashes("body line 7")[0]
    assert hs[3] != line_hashes("body line 7", keep_digits=True)[0]


def test_text_and_line_hashes_normalise_once_for_both():
    from corpus_assets.core.dedup.text import text_and_line_hashes

    for text in ["Home\n\n  MENU  \nBody line 1\n---", "Café\r\nCAFÉ!\n", "日本語が、\n \n", "—!!—", "", "x"]:
        assert text_and_line_hashes(text) == (text_hash(text), line_hashes(text))
    assert text_and_line_hashes(None) == (EMPTY_TEXT_HASH, [])
