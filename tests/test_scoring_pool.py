"""The quality model's training pool: rule-kept pages, bounded, PII-masked; the label fingerprint."""
import polars as pl

from corpus_assets.core.scoring.labels import LabelSet
from corpus_assets.core.scoring.pool import label_fingerprint, masked_pool, select_pool_ids


def candidates(n: int) -> pl.DataFrame:
    hosts = ["www.debian.org" if i % 10 == 0 else f"site{i}.example" for i in range(n)]
    return pl.DataFrame({"doc_id": [f"{i:032x}" for i in range(n)], "url_host": hosts})


def test_the_pool_is_the_kept_pages_and_a_bounded_pool_keeps_reference_and_rated_pages():
    pages = candidates(1000)
    kept = pages["doc_id"].to_list()[:800]
    assert select_pool_ids(pages, kept, [], ("www.debian.org",), max_docs=5000) == sorted(kept)
    rated = [kept[1], kept[3]]
    bounded = select_pool_ids(pages, kept, rated, ("www.debian.org",), max_docs=200)
    reference = pages.filter(pl.col("doc_id").is_in(kept) & (pl.col("url_host") == "www.debian.org"))["doc_id"]
    assert len(bounded) == 200 and set(reference) <= set(bounded) and set(rated) <= set(bounded)
    assert set(bounded) <= set(kept)
    # reproducible and independent of input order
    assert select_pool_ids(pages.reverse(), list(reversed(kept)), rated, ("www.debian.org",), 200) == bounded


def test_pool_text_is_masked_and_the_fingerprint_follows_the_labels():
    docs = pl.DataFrame({"doc_id": ["a"], "lang": ["en"], "url_host": ["x.example"],
                         "text": ["Write to jane.doe@example.org for details."], "n_chars": [42]})
    pool = masked_pool(docs)
    assert "jane.doe" not in pool["text"][0] and "<EMAIL>" in pool["text"][0]
    frame = pl.DataFrame({"doc_id": ["a", "b"], "lang": ["en", "en"], "host": ["x", "y"], "text": ["good", "bad"],
                          "label": [1, 0], "rating": [None, None], "source": ["s", "s"]})
    first = label_fingerprint(LabelSet(frame, "bootstrap"), {"lr": 0.5})
    assert first == label_fingerprint(LabelSet(frame.reverse(), "bootstrap"), {"lr": 0.5})
    assert first != label_fingerprint(LabelSet(frame.with_columns(label=pl.Series([0, 1])), "bootstrap"), {"lr": 0.5})
    assert first != label_fingerprint(LabelSet(frame, "bootstrap"), {"lr": 0.1})
