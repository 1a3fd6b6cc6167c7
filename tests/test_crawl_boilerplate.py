"""Boilerplate counted per host across the shards of a crawl, stale shards, and the text MinHash sees."""
import pytest
import polars as pl

from corpus_assets.core.dedup.boilerplate import (DocumentHashes, _link_like, count_host_lines, crawl_boilerplate, minhash_text,
                                                  stale_boilerplate_shards)
from corpus_assets.core.dedup.clustering import DedupDB
from corpus_assets.core.dedup.text import line_hashes, text_hash

TEMPLATE = "About example.org\nexample.org is an independent portal founded in 1998 by journalists."


def shard_docs(shard: int, bodies: list[str], host: str = "example.org") -> pl.DataFrame:
    return pl.DataFrame({"doc_id": [f"{shard}-{i}" for i in range(len(bodies))], "url_host": host,
                         "text": [f"{body}\n{TEMPLATE}" for body in bodies]})


def counts_of(shard: int, docs: pl.DataFrame, tmp_path) -> pl.DataFrame:
    with DedupDB("256MB", tmp_path) as db:
        reader = count_host_lines([docs[:1], docs[1:]], db)  # two batches: counts add up
        return pl.from_arrow(reader.read_all()).with_columns(crawl=pl.lit("C"), shard=pl.lit(f"{shard:05d}"))


def test_a_template_one_page_per_shard_is_boilerplate_across_the_crawl(tmp_path):
    shards = [shard_docs(s, [f"This story is about the {topic} and its people."]) for s, topic in enumerate(("harbour", "mill", "school"))]
    counts = pl.concat([counts_of(s, docs, tmp_path) for s, docs in enumerate(shards)])
    template = set(line_hashes(TEMPLATE))
    assert counts["docs"].max() == 1  # no shard alone sees a line twice
    with DedupDB("256MB", tmp_path) as db:
        first = crawl_boilerplate(db, counts.filter(pl.col("shard") == "00000"), "C", "00000", 3)
        every = crawl_boilerplate(db, counts, "C", "00000", 3)
    assert first.height == 0 and set(every["line_hash"]) == template and set(every["url_host"]) == {"example.org"}
    # shard 0 hashed before shards 1 and 2 arrived removed nothing: it is stale now, the others are not
    used = pl.concat([first.with_columns(crawl=pl.lit("C"), shard=pl.lit("00000"))] +
                     [every.with_columns(crawl=pl.lit("C"), shard=pl.lit(f"{s:05d}")) for s in (1, 2)])
    assert stale_boilerplate_shards(counts, used, 3) == ["C/00000"]


def test_counts_stay_within_their_host_and_crawl(tmp_path):
    a = counts_of(0, shard_docs(0, ["One story about rain.", "Another about snow."], "a.org"), tmp_path)
    b = counts_of(1, shard_docs(1, ["A story about wind."], "b.org"), tmp_path).with_columns(crawl=pl.lit("D"))
    with DedupDB("256MB", tmp_path) as db:
        assert crawl_boilerplate(db, pl.concat([a, b]), "C", "00000", 3).height == 0  # 2 pages of a.org, 1 of b.org


def test_pass_one_keeps_each_documents_hashes_for_pass_two(tmp_path):
    docs = shard_docs(0, ["One story about rain.", "Another about snow.", "A third about wind."])
    with DedupDB("256MB", tmp_path) as db:
        count_host_lines([docs[:2], docs[2:]], db, str(tmp_path / "hashes.parquet")).read_all()
    hashes = DocumentHashes(str(tmp_path / "hashes.parquet"), batch_rows=2)
    first, rest = hashes.take(docs[:1]), hashes.take(docs[1:])  # batches of another size than pass 1's
    assert first is not None and rest is not None
    rows = pl.concat([first, rest])
    assert rows["doc_id"].to_list() == docs["doc_id"].to_list()
    assert rows["text_hash"].to_list() == [text_hash(t) for t in docs["text"]]
    assert rows["line_hashes"].to_list() == [line_hashes(t) for t in docs["text"]]
    assert hashes.take(docs[:1]) is None  # nothing left: pass 2 hashes the texts itself
    assert DocumentHashes(str(tmp_path / "hashes.parquet")).take(docs[1:]) is None  # other rows
    assert DocumentHashes(None).take(docs) is None  # imported texts: no pass 1


def test_minhash_text_drops_boilerplate_and_link_like_lines_but_keeps_short_texts():
    prose = ("The council approved the new harbour budget on Tuesday after a long debate. " * 8).strip()
    text = f"Home\nRelated\nFerry fares rise again\n{prose}\nAbout example.org"
    common = frozenset(h for h in line_hashes("About example.org") if h)
    seen, removed = minhash_text(text, common)
    assert removed == 1 and seen == prose
    assert minhash_text(text, common, hashes=line_hashes(text)) == (seen, removed)
    short = "Menu\nTrains late again\nThe council met."
    assert minhash_text(short, frozenset()) == (short, 0)  # too little prose: nothing but boilerplate goes
    cjk = "相关新闻\n" + "理事会在星期二经过长时间辩论后批准了新的港口预算。" * 5
    assert minhash_text(cjk, frozenset())[0] == cjk.split("\n", 1)[1]


@pytest.mark.parametrize("line, link_like", [
    (" ".join(["word"] * 12), True), (" ".join(["word"] * 13), False),  # the most words a link label has
    ("-- " + " | ".join(["menu"] * 12) + " »  ", True), ("état-major " * 7, False),  # \w runs, any script
    ("word " * 30 + ".", False), ("   ", False), ("", False),  # a sentence end; blank lines are prose
    ("x" * 5000 + " " + "y" * 5000, True),  # a long line of two words
    ("新闻" * 12, True), ("新闻" * 13, False),  # two CJK characters count as one word
])
def test_a_line_is_link_like_up_to_twelve_words_without_a_sentence_end(line, link_like):
    assert _link_like(line) is link_like
