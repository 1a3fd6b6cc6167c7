"""Global fuzzy-dedup clustering (corpus_assets.core.dedup.clustering) and boilerplate lines
(corpus_assets.core.dedup.text), end to end on labelled near-duplicate data."""
from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from corpus_assets.core.dedup.clustering import (
    UnionFind,
    cluster_band_keys,
    cluster_incremental,
    pick_representatives,
)
from corpus_assets.core.dedup.text import boilerplate_line_hashes, remove_boilerplate_df, remove_boilerplate_lines
from corpus_assets.core.dedup.minhash import minhash_batch, minhash_tables

FIXTURES = Path(__file__).parent / "fixtures" / "neardup"
MEM = "256MB"


# --------------------------------------------------------------------------- helpers


def load_articles() -> tuple[pl.DataFrame, set[tuple[str, str]]]:
    ids, texts = [], []
    for line in (FIXTURES / "articles_1000.train").read_text().splitlines():
        doc_id, text = line.split(" ", 1)
        ids.append(doc_id)
        texts.append(text)
    truth = set()
    for line in (FIXTURES / "articles_1000.truth").read_text().splitlines():
        if line.strip():
            a, b = line.split()
            truth.add((min(a, b), max(a, b)))
    return pl.DataFrame({"doc_id": ids, "text": texts, "lang": ["en"] * len(ids)}), truth


def zh_paragraphs() -> list[str]:
    lines = (FIXTURES / "zh_paragraphs.txt").read_text(encoding="utf-8").splitlines()
    return [x for x in lines if x and not x.startswith("#")]


def cluster_pairs(clusters: pl.DataFrame) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for doc_id, cid in clusters.select("doc_id", "cluster_id").iter_rows():
        groups[cid].append(doc_id)
    return {tuple(sorted(p)) for members in groups.values() for p in itertools.combinations(members, 2)}


def precision_recall(pred: set, truth: set) -> tuple[float, float]:
    tp = len(pred & truth)
    return (tp / len(pred) if pred else 1.0), (tp / len(truth) if truth else 1.0)


def perturb(text: str, rng: np.random.Generator, rate: float, vocab: list[str]) -> str:
    """Random word substitutions / deletions at ``rate`` (half each)."""
    out = []
    for w in text.split():
        r = rng.random()
        if r < rate / 2:
            continue
        out.append(vocab[rng.integers(len(vocab))] if r < rate else w)
    return " ".join(out)


def canon(df: pl.DataFrame) -> pl.DataFrame:
    return df.select("doc_id", "cluster_id", pl.col("cluster_size").cast(pl.Int64)).sort("doc_id")


@pytest.fixture(scope="module")
def articles():
    return load_articles()


@pytest.fixture(scope="module")
def article_keys(articles):
    df, _ = articles
    return minhash_tables(df)


# --------------------------------------------------------------------------- labelled data


@pytest.mark.parametrize("mode", ["dataframe", "parquet_sharded", "verified"])
def test_articles_1000_precision_recall(articles, article_keys, tmp_path, mode):
    _, truth = articles
    if mode == "dataframe":
        clusters = cluster_band_keys(article_keys.band_keys, memory_limit=MEM)
    elif mode == "parquet_sharded":
        # band keys as several Parquet files in a directory, 5 candidate shards
        bk = article_keys.band_keys
        d = tmp_path / "band_index"
        d.mkdir()
        for i, part in enumerate(bk.iter_slices(3000)):
            part.write_parquet(d / f"part-{i:03d}.parquet")
        clusters = cluster_band_keys(d, memory_limit="64MB", temp_directory=tmp_path / "spill", shard_rows=3000, threads=1)
    else:
        clusters = cluster_band_keys(
            article_keys.band_keys, memory_limit=MEM, signatures=article_keys.docs, threshold=0.7
        )
    p, r = precision_recall(cluster_pairs(clusters), truth)
    print(f"articles_1000 [{mode}]: pair precision={p:.3f} recall={r:.3f} ({len(truth)} labelled pairs)")
    assert p >= 0.95 and r >= 0.95
    assert set(clusters.columns) == {"doc_id", "cluster_id", "cluster_size"}
    assert (clusters["cluster_size"] >= 2).all()
    # cluster_id is the smallest doc_id of the cluster
    assert clusters.group_by("cluster_id").agg(pl.col("doc_id").min().alias("m")).select(
        (pl.col("m") == pl.col("cluster_id")).all()
    ).item()


def test_synthetic_variant_families_precision_recall(articles):
    """A bigger labelled set: 300 articles, each with 0-3 variants (1-2% of words substituted/deleted).

    Truth = all pairs inside a family (article + its variants); the other 700 articles are distractors.
    """
    df, truth_pairs = articles
    in_truth = {d for p in truth_pairs for d in p}
    base = df.filter(~pl.col("doc_id").is_in(list(in_truth)))
    texts = base["text"].to_list()
    vocab = " ".join(texts[:50]).split()
    rng = np.random.default_rng(11)
    ids, out, family = [], [], []
    for i, (doc_id, text) in enumerate(zip(base["doc_id"], texts)):
        ids.append(doc_id)
        out.append(text)
        family.append(doc_id)
        if i < 300:
            for k in range(int(rng.integers(0, 4))):
                ids.append(f"{doc_id}_v{k}")
                out.append(perturb(text, rng, float(rng.uniform(0.01, 0.02)), vocab))
                family.append(doc_id)
    docs = pl.DataFrame({"doc_id": ids, "text": out})
    fam = defaultdict(list)
    for d, f in zip(ids, family):
        fam[f].append(d)
    truth = {tuple(sorted(p)) for m in fam.values() for p in itertools.combinations(m, 2)}
    clusters = cluster_band_keys(minhash_batch(docs), memory_limit=MEM)
    p, r = precision_recall(cluster_pairs(clusters), truth)
    print(f"synthetic families: pair precision={p:.3f} recall={r:.3f} ({len(truth)} labelled pairs)")
    assert len(truth) > 300
    assert p >= 0.95 and r >= 0.95


def test_cs336_fuzzy_license_files(tmp_path):
    d = FIXTURES / "cs336" / "documents_with_fuzzy_duplicates"
    files = sorted(d.glob("*.txt"))
    df = pl.DataFrame({"doc_id": [f.stem for f in files], "text": [f.read_text() for f in files]})
    clusters = cluster_band_keys(minhash_batch(df), memory_limit=MEM)
    assert cluster_pairs(clusters) == {("rails_mit_license", "react_mit_license")}


def test_cjk_near_duplicates_found():
    zh1, zh2, zh3 = zh_paragraphs()
    edited = zh1.replace("Debian 规则", "Debian 规定").replace("很简单", "很容易").replace("校验和相同", "校验和一致")
    edited2 = zh1.replace("其他的发行版", "别的发行版").replace("脚本", "程序", 1)
    df = pl.DataFrame(
        {
            "doc_id": ["zh1", "zh1_edit", "zh1_edit2", "zh2", "zh3"],
            "text": [zh1, edited, edited2, zh2, zh3],
            "lang": ["zh", "zh", None, "zh", "zh"],
        }
    )
    clusters = cluster_band_keys(minhash_batch(df), memory_limit=MEM)
    assert cluster_pairs(clusters) == {("zh1", "zh1_edit"), ("zh1", "zh1_edit2"), ("zh1_edit", "zh1_edit2")}


# --------------------------------------------------------------------------- false-positive guards


HEADER = [
    "Home",
    "News",
    "Sport",
    "About us",
    "Contact",
    "Log in | Register",
    "Subscribe to our newsletter and get the latest headlines delivered to your inbox every morning",
]
FOOTER = [
    "Share this article: Facebook Twitter Email",
    "Related articles",
    "We use cookies to improve your experience on our website. By continuing to browse you agree to our use of cookies.",
    "Copyright (c) 2024 Daily Example Media Group. All rights reserved.",
    "Terms of use | Privacy policy | Accessibility | Advertise with us",
]


def templated_pages(bodies: list[str], header=HEADER, footer=FOOTER) -> list[str]:
    return ["\n".join([*header, body, *footer]) for body in bodies]


def test_template_pages_with_different_bodies_not_merged(articles):
    df, truth = articles
    dup_docs = {d for p in truth for d in p}
    bodies = df.filter(~pl.col("doc_id").is_in(list(dup_docs))).head(60)["text"].to_list()
    pages = pl.DataFrame(
        {
            "doc_id": [f"p{i:03d}" for i in range(60)],
            "url_host": ["www.example.com"] * 60,
            "text": templated_pages(bodies),
        }
    )
    clusters = cluster_band_keys(minhash_batch(pages), memory_limit=MEM)
    assert clusters.height == 0

    # the shared template is detected as boilerplate and stripped; the bodies stay
    common = boilerplate_line_hashes(pages, min_docs=3)
    assert common.height == len(HEADER) + len(FOOTER)
    cleaned = remove_boilerplate_df(pages, common)
    assert cleaned["n_boilerplate_lines"].to_list() == [len(HEADER) + len(FOOTER)] * 60
    assert cleaned["text"].to_list() == bodies


def test_heavy_template_short_bodies_after_boilerplate_removal(articles):
    """A long template around short, different bodies: removing boilerplate lines first keeps them apart."""
    df, _ = articles
    legal = [s.strip() + "." for s in df["text"][500].split(". ")[:12]]  # ~250 words of "legal text"
    bodies = [" ".join(t.split()[:60]) for t in df["text"][:40].to_list()]
    pages = pl.DataFrame(
        {
            "doc_id": [f"h{i:03d}" for i in range(40)],
            "url_host": ["shop.example.org"] * 40,
            "text": templated_pages(bodies, header=HEADER + legal[:6], footer=legal[6:] + FOOTER),
        }
    )
    cleaned = remove_boilerplate_df(pages, boilerplate_line_hashes(pages, min_docs=3))
    assert cleaned["text"].to_list() == bodies
    assert cluster_band_keys(minhash_batch(cleaned), memory_limit=MEM).height == 0


def test_short_and_empty_docs_never_cluster(articles):
    df, _ = articles
    junk = ["", " ", "\n\n", "...", "!!! ???", "Read more", "Click here to continue", "Home | About | Contact"]
    texts = junk * 25 + [df["text"][0], df["text"][0]]  # 200 junk docs + one real exact duplicate
    docs = pl.DataFrame({"doc_id": [f"j{i:04d}" for i in range(len(texts))], "text": texts})
    t = minhash_tables(docs)
    assert set(t.docs["minhash_status"].head(200).to_list()) == {"empty", "too_short"}
    clusters = cluster_band_keys(t.band_keys, memory_limit=MEM)
    assert clusters["doc_id"].to_list() == ["j0200", "j0201"]
    assert clusters["cluster_size"].to_list() == [2, 2]


def test_one_big_cluster_of_variants(articles):
    df, _ = articles
    base = df["text"][3]
    vocab = base.split()
    rng = np.random.default_rng(1)
    texts = [base] + [perturb(base, rng, 0.015, vocab) for _ in range(29)]
    docs = pl.DataFrame({"doc_id": [f"v{i:02d}" for i in range(30)], "text": texts})
    clusters = cluster_band_keys(minhash_batch(docs), memory_limit=MEM)
    assert clusters.height == 30
    assert set(clusters["cluster_id"]) == {"v00"}
    assert set(clusters["cluster_size"]) == {30}


# --------------------------------------------------------------------------- incremental


def synthetic_corpus(articles_df: pl.DataFrame, seed: int = 0) -> pl.DataFrame:
    """articles_1000 + chains of near-duplicates with random ids (so later docs can get smaller ids)."""
    rng = np.random.default_rng(seed)
    texts = articles_df["text"].to_list()
    vocab = " ".join(texts[:50]).split()
    ids = articles_df["doc_id"].to_list()
    new_ids, new_texts = [], []
    for i in rng.choice(len(texts), 150, replace=False):
        cur = texts[i]
        for _ in range(int(rng.integers(1, 5))):
            cur = perturb(cur, rng, 0.05, vocab)
            new_ids.append(f"{rng.integers(16**6):06x}")
            new_texts.append(cur)
    return pl.DataFrame({"doc_id": ids + new_ids, "text": texts + new_texts}).unique("doc_id", keep="first")


@pytest.mark.parametrize("storage", ["parquet", "delta"])
def test_incremental_equals_from_scratch(articles, tmp_path, storage):
    df, _ = articles
    corpus = synthetic_corpus(df)
    rng = np.random.default_rng(42)
    part_of = rng.integers(0, 4, corpus.height)
    bk_all = minhash_batch(corpus)
    scratch = canon(cluster_band_keys(bk_all, memory_limit=MEM))
    assert scratch.height > 300

    index = tmp_path / "band_index"
    clusters = None
    changed_ids = 0
    compared = unreported = 0  # rounds compared with the previous table; changed rows missing from `changed`
    for p in range(4):
        part = corpus.filter(pl.Series(part_of == p))
        new_keys = minhash_batch(part)  # only the new docs are hashed
        existing = None
        if p > 0:
            existing = index if storage == "delta" else sorted(index.glob("*.parquet"))
        res = cluster_incremental(existing, clusters, new_keys, memory_limit="128MB", temp_directory=tmp_path)
        if clusters is not None:
            old = clusters.select("doc_id", pl.col("cluster_id").alias("old"))
            changed_ids += res.clusters.join(old, on="doc_id").filter(pl.col("cluster_id") != pl.col("old")).height
            # `changed` holds exactly the rows that differ from (or are missing in) the old table
            diff = res.clusters.join(clusters, on=["doc_id", "cluster_id", "cluster_size"], how="anti")
            unreported += len(set(diff["doc_id"]) - set(res.changed["doc_id"]))
            compared += 1
        clusters = res.clusters
        # append the new band keys to the stored band index
        if storage == "delta":
            new_keys.write_delta(index, mode="append")
        else:
            index.mkdir(exist_ok=True)
            new_keys.write_parquet(index / f"part-{p}.parquet")
    assert compared == 3 and unreported == 0
    assert changed_ids > 0, "the split should exercise merges / cluster_id changes across partitions"
    assert canon(clusters).equals(scratch)
    # and a from-scratch run over the stored index gives the same again
    src = index if storage == "delta" else index
    assert canon(cluster_band_keys(src, memory_limit=MEM)).equals(scratch)


def test_incremental_first_run_and_no_op(articles, article_keys):
    first = cluster_incremental(None, None, article_keys.band_keys, memory_limit=MEM)
    scratch = cluster_band_keys(article_keys.band_keys, memory_limit=MEM)
    assert canon(first.clusters).equals(canon(scratch))
    # re-adding docs that are already indexed changes nothing
    again = cluster_incremental(article_keys.band_keys, first.clusters, article_keys.band_keys.head(14 * 5), memory_limit=MEM)
    assert canon(again.clusters).equals(canon(scratch))
    assert again.changed.height == 0


def test_incremental_with_verification(articles, article_keys):
    df, truth = articles
    half = df.height // 2
    ids_a = set(df["doc_id"][:half])
    bk, docs = article_keys.band_keys, article_keys.docs
    a = bk.filter(pl.col("doc_id").is_in(list(ids_a)))
    b = bk.filter(~pl.col("doc_id").is_in(list(ids_a)))
    kw = dict(memory_limit=MEM, signatures=docs, threshold=0.7)
    first = cluster_incremental([], None, a, **kw)
    second = cluster_incremental(a, first.clusters, b, **kw)
    assert cluster_pairs(second.clusters) == truth
    assert second.stats["new_rows"] == b.height


def test_delta_source_uses_duckdb_extension(tmp_path, article_keys):
    from corpus_assets.core.dedup.clustering import DedupDB

    article_keys.band_keys.write_delta(tmp_path / "bk")
    with DedupDB("128MB") as db:
        db.register("bk", tmp_path / "bk")
        assert db.sql("SELECT count(*) FROM bk").fetchone()[0] == article_keys.band_keys.height
        assert db._delta_loaded is True


# --------------------------------------------------------------------------- pieces


def test_union_find_matches_bfs():
    rng = np.random.default_rng(3)
    n, m = 5000, 4000
    u = rng.integers(0, n, m)
    v = rng.integers(0, n, m)
    # a long path too (worst case for naive pointer chasing)
    path = np.arange(4000, 4999)
    u = np.concatenate([u, path])
    v = np.concatenate([v, path + 1])
    uf = UnionFind(n)
    half = len(u) // 2
    uf.union(u[:half], v[:half])
    uf.union(u[half:], v[half:])
    roots = uf.roots()
    adj = defaultdict(list)
    for a, b in zip(u.tolist(), v.tolist()):
        adj[a].append(b)
        adj[b].append(a)
    seen = np.full(n, -1)
    for s in range(n):
        if seen[s] >= 0:
            continue
        comp, stack = [], [s]
        seen[s] = s
        while stack:
            x = stack.pop()
            comp.append(x)
            for y in adj[x]:
                if seen[y] < 0:
                    seen[y] = s
                    stack.append(y)
        assert set(roots[comp].tolist()) == {min(comp)}


def test_output_path_and_scratch_cleanup(article_keys, tmp_path):
    out = tmp_path / "clusters.parquet"
    spill = tmp_path / "spill"
    res = cluster_band_keys(article_keys.band_keys, memory_limit=MEM, temp_directory=spill, output_path=out)
    assert res == out and pl.read_parquet(out).height == 20
    assert list(spill.iterdir()) == []  # private scratch dir removed


def test_pick_representatives():
    clusters = pl.DataFrame(
        {
            "doc_id": ["a", "b", "c", "d", "e", "f", "g"],
            "cluster_id": ["a", "a", "a", "d", "d", "f", "f"],
            "cluster_size": [3, 3, 3, 2, 2, 2, 2],
        }
    )
    meta = pl.DataFrame(
        {
            "doc_id": ["a", "b", "c", "d", "e", "f", "g", "z"],
            "quality_score": [0.5, 0.9, 0.9, None, 0.1, 0.3, 0.3, 0.0],
            "fetch_time": [1, 5, 3, 1, 2, 9, 9, 4],
        }
    )
    out = pick_representatives(clusters, meta)
    kept = set(out.filter("is_kept")["doc_id"])
    # cluster a: b/c tie on score -> earlier fetch_time c; cluster d: null score ranks last -> e;
    # cluster f: full tie -> smallest doc_id f; z is in no cluster -> kept
    assert kept == {"c", "e", "f", "z"}
    assert out.height == 8
    assert out.filter(pl.col("doc_id") == "z")["cluster_id"].to_list() == [None]
    # without quality_score: earliest fetch_time, then doc_id
    out2 = pick_representatives(clusters, meta.drop("quality_score"))
    assert set(out2.filter("is_kept")["doc_id"]) == {"a", "d", "f", "z"}
    # without meta: smallest doc_id (= cluster_id)
    out3 = pick_representatives(clusters)
    assert set(out3.filter("is_kept")["doc_id"]) == {"a", "d", "f"}


# --------------------------------------------------------------------------- boilerplate lines


def _cs336_docs(sub: str) -> pl.DataFrame:
    files = sorted((FIXTURES / "cs336" / sub).glob("*.txt"))
    return pl.DataFrame({"doc_id": [f.name for f in files], "text": [f.read_text() for f in files]})


def test_cs336_line_dedup():
    docs = _cs336_docs("documents_with_line_duplicates")
    expected = _cs336_docs("documents_line_deduplicated")
    common = boilerplate_line_hashes(docs, min_docs=2, group_col=None, keep_digits=True)
    out = remove_boilerplate_df(docs, common, group_col=None, keep_digits=True)
    assert out["text"].to_list() == expected["text"].to_list()
    # default normalisation maps digits to 0, so "...for doc3.txt>" and "...for doc4.txt>" become
    # the same (templated) line and are removed too - CCNet behaviour
    common = boilerplate_line_hashes(docs, min_docs=2, group_col=None)
    out = remove_boilerplate_df(docs, common, group_col=None)
    assert out["text"].to_list()[2:4] == ["- back\n", ""]


def test_boilerplate_scoped_per_host():
    docs = pl.DataFrame(
        {
            "doc_id": ["1", "2", "3", "4", "5"],
            "url_host": ["a.com", "a.com", "a.com", "b.com", "b.com"],
            "text": ["Menu\nalpha", "Menu\nbeta", "Menu\ngamma\nMenu", "Menu\ndelta", "other\nepsilon"],
        }
    )
    common = boilerplate_line_hashes(docs, min_docs=3)
    assert common["url_host"].to_list() == ["a.com"]
    out = remove_boilerplate_df(docs, common)
    assert out["text"].to_list() == ["alpha", "beta", "gamma", "Menu\ndelta", "other\nepsilon"]
    assert out["n_boilerplate_lines"].to_list() == [1, 1, 2, 0, 0]
    # a line repeated inside one document only is not boilerplate
    assert boilerplate_line_hashes(docs.filter(pl.col("doc_id") == "3"), min_docs=2).height == 0


def test_remove_boilerplate_lines_layout():
    text = "Home\n\nTitle\n\nBody one.\nBody two.\n\nFooter (c) 2023\n"
    from corpus_assets.core.dedup.text import line_hashes

    common = {line_hashes("home")[0], line_hashes("footer (c) 1999")[0]}
    assert remove_boilerplate_lines(text, common) == ("Title\n\nBody one.\nBody two.\n", 2)
    assert remove_boilerplate_lines("untouched\n\n\ntext", common) == ("untouched\n\n\ntext", 0)
