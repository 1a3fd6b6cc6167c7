"""Safety tags: URL blocklists (UT1 / FineWeb), FineWeb URL words, LDNOOBW ratios.

Real data: entries of the real UT1 lists (the packaged subset, and an excerpt of FineWeb's
4.5 M-domain archive in its own layout), real pages of the bundled sample crawl (a clean one
stays untagged, an explicit Chinese one is tagged)."""
from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

import polars as pl
import pytest

from corpus_assets.core.safety.badwords import BadWords, badword_ratio
from corpus_assets.core.safety.blocklist import UrlBlocklist
from corpus_assets.core.safety.tags import SAFETY_TAGS, compute_safety, safety_tags
from corpus_assets.core.safety.thresholds import (
    BADWORD_RATIO,
    DEFAULT_THRESHOLDS,
    MIN_BADWORD_HITS,
    SOFT_URL_WORDS,
    SafetyThresholds,
)
from corpus_assets.core.urls import url_host

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RES = REPO / "corpus_assets" / "data"
ARCHIVE_EXCERPT = HERE / "fixtures" / "blocklist" / "ut1_archive_excerpt.tar.gz"

# A short passage of a real explicit page of the sample crawl (http://0513mt.com/...,
# an erotic story site), enough to exercise zh substring matching.
ZH_EXPLICIT = (
    "好在女友善解人意，每天临睡前总要来我这里陪我一会儿，而这时，那个女孩也知趣地呆在里面不出来。"
    "女友总是空心穿着睡衣，我就能上下其手，也能让她为我口交，但是不能正常地做爱。平时我们做爱时总是很放得开，"
    "她一边说着一些淫秽的话。我也能很痛快地舔她的阴部。"
)
# Real clean Chinese technical text (debian-handbook zh-CN): 性能, 可能性, 成人 ... must not hit.
ZH_CLEAN = (
    "检查 Debian 的 Bug 跟踪系统（BTS）上有没类似的问题。处理器负载，网络流量和空闲磁盘空间是一些"
    "经常变化的信息，这些软件包的性能与可能性需要长期监视。成人教育与刚度计算不是坏词。"
)


@pytest.fixture(scope="module")
def default_bl() -> UrlBlocklist:
    return UrlBlocklist.default()


@pytest.fixture(scope="module")
def bw() -> BadWords:
    return BadWords.load()


# --------------------------------------------------------------------------- resources


def test_resources_shipped_and_small():
    bl_dir = RES / "blocklists"
    size = sum(f.stat().st_size for f in bl_dir.iterdir() if f.is_file())
    assert size < 100_000
    assert (bl_dir / "README.md").read_text().count("CC BY-SA 4.0") >= 1
    wl = RES / "wordlists"
    for lang in ("en", "zh", "ja", "de", "fr", "es", "ru"):
        assert (wl / f"ldnoobw-{lang}.txt").stat().st_size > 100
    assert "CC BY 4.0" in (wl / "README.md").read_text()


# --------------------------------------------------------------------------- URL blocklist


def test_url_host():
    assert url_host("https://User:pw@WWW.Example.COM:8080/a?b#c") == "www.example.com"
    assert url_host("http://[2001:db8::1]:80/") == "2001:db8::1"
    assert url_host("example.org/path") == "example.org"
    assert url_host("") == ""


def test_default_blocklist_real_entries(default_bl):
    # real UT1 adult domains (packaged subset) incl. subdomains and www.
    assert default_bl.hit("https://www.pornhub.com/view_video.php?viewkey=ph5")
    assert default_bl.hit("http://de.xhamster.com/videos/x")
    assert default_bl.hit("HTTPS://XVIDEOS.COM:443/")
    # parents only on label boundaries
    assert not default_bl.hit("https://notpornhub.com/")
    assert not default_bl.hit("https://pornhub.com.example.org/")
    # real UT1 `urls` entry "020sextoy.com/sk": prefix at path boundaries
    assert default_bl.hit("http://020sextoy.com/sk")
    assert default_bl.hit("http://www.020sextoy.com/sk/page?id=1")
    assert not default_bl.hit("http://020sextoy.com/skate")
    # real entry with an IP host
    assert default_bl.hit("http://178.128.25.172/watch?v=1")
    # clean real URLs of the sample crawl
    for u in (
        "https://debian-handbook.info/browse/de-DE/stable/solving-problems.html",
        "https://www.nzz.ch/international/der-nervenkrieg-um-den-brexit-geht-in-die-naechste-runde-ld.1516516",
        "https://en.wikipedia.org/wiki/Essex",
    ):
        assert not default_bl.hit(u)
    assert not default_bl.hit("") and not default_bl.hit(None)  # type: ignore[arg-type]


def test_hit_many_matches_hit(default_bl):
    urls = [
        "https://www.pornhub.com/x",
        "https://debian-handbook.info/browse/",
        None,
        "http://020sextoy.com/sk/x",
        "https://notpornhub.com/",
    ]
    got = default_bl.hit_many(urls).to_list()
    assert got == [bool(u) and default_bl.hit(u) for u in urls] == [True, False, False, True, False]


def test_load_formats(tmp_path):
    (tmp_path / "adult").mkdir()
    (tmp_path / "adult" / "domains").write_text("Example-Adult.com\n# comment\n\nwww.other.net\n")
    (tmp_path / "adult" / "urls").write_text("site.org/bad\n")
    (tmp_path / "banned_words.txt").write_text("#disabled\nporn\n")
    bl = UrlBlocklist.load(tmp_path)
    assert bl.n_domains == 2 and bl.n_urls == 1
    assert bl.hit("http://a.example-adult.com/") and bl.hit("http://other.net/x")
    assert bl.hit("https://site.org/bad/1") and not bl.hit("https://site.org/good")
    assert bl.url_words("https://x.org/porn-clip")["banned"] == ["porn"]
    assert bl.url_words("https://x.org/disabled")["banned"] == []
    # single plain file; lines with "/" become URL entries
    f = tmp_path / "list.txt"
    f.write_text("one.com\ntwo.com/path\n")
    bl2 = UrlBlocklist.load(f)
    assert bl2.hit("http://www.one.com") and bl2.hit("http://two.com/path/x") and not bl2.hit("http://two.com/")
    # UT1-style tar.gz
    tgz = tmp_path / "bl.tar.gz"
    with tarfile.open(tgz, "w:gz") as tf:
        for name, data in (("blacklists/adult/domains", b"tar-example.com\n"), ("blacklists/adult/urls", b"u.org/x\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    bl3 = UrlBlocklist.load(tgz)
    assert bl3.hit("https://sub.tar-example.com/") and bl3.hit("http://u.org/x")
    with pytest.raises(FileNotFoundError):
        UrlBlocklist.load(tmp_path / "missing")


def test_compact_storage_same_answers():
    doms = ["example.com", "foo.org", "bar.co.uk"]
    small, big = UrlBlocklist(doms), UrlBlocklist(doms, compact=True)
    for u in ("http://x.example.com", "http://foo.org/", "http://bar.co.uk", "http://co.uk", "http://baz.org"):
        assert small.hit(u) == big.hit(u)
    assert big.hit_many(["http://x.example.com", "http://baz.org"]).to_list() == [True, False]


@pytest.mark.parametrize("compact", [False, True])
def test_archive_excerpt_load(compact):
    """FineWeb's UT1 archive layout (a tar with `domains` and `urls`), real entries, both storages."""
    bl = UrlBlocklist.load(ARCHIVE_EXCERPT, compact=compact)
    assert (bl.n_domains, bl.n_urls) == (202, 100)
    # real entries: first lines of the list, a subdomain of a listed domain, a URL entry
    assert bl.hit("http://0-1avsex.com/") and bl.hit("https://www.0-1sex.com/a")
    assert bl.hit("https://videos.pornhub.com/x")
    assert bl.hit(
        "http://0149614511.strimbat.fr/porno-anal-escort-granville-faire-sa-salope-baise-une-vache-video-gratuite-x-escort-girl-auxerre"
    )
    assert not bl.hit("http://0149614511.strimbat.fr/")
    assert not bl.hit("https://debian-handbook.info/browse/en-US/stable/")
    assert not bl.hit("https://www.wikipedia.org/")
    got = bl.hit_many(["https://www.pornhub.com/", "https://www.wikipedia.org/", None]).to_list()
    assert got == [True, False, False]


# --------------------------------------------------------------------------- URL words


def test_url_banned_words(default_bl):
    w = default_bl.url_words
    assert w("https://example.com/free-porn-videos")["banned"] == ["porn"]
    assert w("https://example.com/sexy-lingerie")["soft"] == ["lingerie", "sexy"]
    assert w("https://example.com/TwoGirlsOneCup.html")["subwords"] == ["twogirlsonecup"]
    assert default_bl.url_banned("https://example.com/sexy-lingerie")
    assert not default_bl.url_banned("https://example.com/sexy")  # one soft word < 2
    # no false positives on ordinary words containing banned substrings
    for u in ("https://www.sussex.ac.uk/", "https://example.com/class-assessment", "https://ex.org/analysis"):
        assert not default_bl.url_banned(u), u


# --------------------------------------------------------------------------- bad words


def test_badword_ratio_spaced(bw):
    assert bw.languages == ("de", "en", "es", "fr", "ja", "ru", "zh")
    assert badword_ratio("A classic assessment of the analysis.", "en") == 0.0
    hits, words = bw.count("Fuck fuck, FUCK! 2 girls 1 cup; two girls one cup and g-spot", "en")
    assert (hits, words) == (6, 14.0)
    assert bw.badword_ratio("Das ist eine Fotze und ein Arschloch.", "de") == pytest.approx(2 / 7)
    assert bw.badword_ratio("Le baiser de la mariée", "fr") == 0.0  # excluded innocent reading
    assert bw.badword_ratio("он сказал хуй", "ru") == pytest.approx(1 / 3)
    assert bw.badword_ratio("some text", "xx") == 0.0  # no list for the language
    assert bw.badword_ratio("", "en") == 0.0 and bw.badword_ratio(None, "en") == 0.0
    assert bw.supports("en-US") and bw.supports("zh_Hans") and not bw.supports("it")


def test_badword_ratio_zh_ja(bw):
    hits, words = bw.count(ZH_EXPLICIT, "zh")
    assert hits == 5  # 口交, 做爱 x2, 淫秽, 阴部
    cjk = len(re.findall(r"[\u4e00-\u9fff]", ZH_EXPLICIT))
    assert words == pytest.approx(cjk / 2)
    assert bw.badword_ratio(ZH_EXPLICIT, "zh") > BADWORD_RATIO
    # single-character entries (性, 乳, 奶) and innocent words (成人, 刚度) never hit
    assert bw.count(ZH_CLEAN, "zh")[0] == 0
    assert bw.count("牛奶和乳制品的性价比", "zh")[0] == 0
    # full-width / half-width forms are normalised (NFKC) for zh / ja
    assert bw.count("ｾｯｸｽ と フェラチオ", "ja")[0] == 2
    assert bw.count("グローバルなファンタジー", "ja")[0] == 0


def test_load_from_directory(tmp_path):
    (tmp_path / "ldnoobw-en.txt").write_text("badword\nvery bad phrase\n")
    bw2 = BadWords.load(tmp_path)
    assert bw2.count("a badword and a Very Bad Phrase", "en") == (2, 7.0)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError):
        BadWords.load(empty)


def test_prefilter_is_superset(bw):
    texts = [ZH_CLEAN, "A fucking mess.", "g-spot", "class assessment", "Arschloch!", "🖕 ok", "FUCK"]
    langs = ["zh", "en", "en", "en", "de", "en", "en"]
    maybe = bw.maybe_hits(pl.Series(texts), langs)
    hits = [bw.count(t, lang)[0] for t, lang in zip(texts, langs)]
    assert sum(h > 0 for h in hits) >= 4
    assert all(m or h == 0 for m, h in zip(maybe, hits)), list(zip(texts, maybe, hits))
    assert maybe[3] is False


def test_prefilter_matches_whole_phrases(bw):
    texts = ["One of the two girls had one cup of tea.", "Two Girls-One  Cup!", "two girls\none cup",
             "\u0130stanbul: one cup", "Make me come home."]
    maybe = bw.maybe_hits(pl.Series(texts), ["en"] * len(texts))
    hits = [bw.count(t, "en")[0] for t in texts]
    assert hits == [0, 1, 1, 0, 1] and maybe[0] is False  # the first tokens alone no longer pass
    assert all(m or h == 0 for m, h in zip(maybe, hits)) and maybe[3] is True  # İ: always counted
    # the Kelvin sign lower-cases to "k" but is no ASCII word character: the pre-check used to miss this hit
    assert bw.count("What the FUC\u212a is this", "en")[0] == 1
    assert bw.maybe_hits(pl.Series(["What the FUC\u212a is this"]), ["en"]) == [True]


def test_prefilter_of_zh_and_ja_sees_the_normalised_text(bw):
    texts = [ZH_CLEAN, "他妈的，真烦", "干死ＧＭ吧", "グループ・セックスの話", "ok 🖕 ok", "ﾚｽﾞの話", "普通の記事です。"]
    langs = ["zh", "zh", "zh", "ja", "ja", "ja", "ja"]
    maybe = bw.maybe_hits(pl.Series(texts), langs)
    hits = [bw.count(t, lang)[0] for t, lang in zip(texts, langs)]
    assert all(m or h == 0 for m, h in zip(maybe, hits)), list(zip(texts, maybe, hits))
    assert sum(h > 0 for h in hits) >= 3 and maybe[0] is False and maybe[-1] is False


# --------------------------------------------------------------------------- tags


def test_thresholds():
    assert DEFAULT_THRESHOLDS == SafetyThresholds(BADWORD_RATIO, MIN_BADWORD_HITS, SOFT_URL_WORDS)
    assert SafetyThresholds.coerce({"badword_ratio": 0.5}).badword_ratio == 0.5
    assert SafetyThresholds.coerce(None) is DEFAULT_THRESHOLDS
    with pytest.raises(ValueError):
        SafetyThresholds.coerce({"nope": 1})


def test_safety_tags(default_bl, bw):
    tags, scores = safety_tags("https://www.pornhub.com/x", "", "en", default_bl, bw)
    assert tags == ["url_blocklist", "url_banned_word"]
    tags, scores = safety_tags("http://0513mt.com/index.php/art/detail/id/8884.html", ZH_EXPLICIT, "zh", default_bl, bw)
    assert tags == ["adult_words"] and scores["badword_hits"] == 5
    # same text under a higher threshold, or with too few hits, is not tagged
    assert safety_tags("http://x.cn/", ZH_EXPLICIT, "zh", default_bl, bw, {"badword_ratio": 0.5})[0] == []
    assert safety_tags("http://x.org/", "fuck this", "en", default_bl, bw)[0] == []  # 1 hit < MIN_BADWORD_HITS
    assert set(SAFETY_TAGS) == {"url_blocklist", "url_banned_word", "adult_words"}


def test_compute_safety_schema(default_bl, bw):
    df = pl.DataFrame(
        {
            "doc_id": ["a", "b", "c", "d"],
            "url": ["https://www.pornhub.com/", "https://debian-handbook.info/", None, "http://0513mt.com/x"],
            "url_host": ["www.pornhub.com", "debian-handbook.info", None, "0513mt.com"],
            "text": ["", ZH_CLEAN, None, ZH_EXPLICIT],
            "lang": ["en", "zh", None, "zh"],
        }
    )
    out = compute_safety(df, default_bl, bw)
    assert out.schema == pl.Schema(
        {"doc_id": pl.String, "safety_tags": pl.List(pl.String), "badword_ratio": pl.Float64, "url_blocklisted": pl.Boolean}
    )
    assert out.get_column("safety_tags").to_list() == [["url_blocklist", "url_banned_word"], [], [], ["adult_words"]]
    assert out.get_column("url_blocklisted").to_list() == [True, False, False, False]
    for (u, t, lang), tags in zip(df.select("url", "text", "lang").rows(), out.get_column("safety_tags").to_list()):
        assert safety_tags(u, t, lang, default_bl, bw)[0] == tags


# --------------------------------------------------------------------------- real pages


@pytest.fixture(scope="module")
def real_pages() -> pl.DataFrame:
    """Every HTML page of the bundled sample crawl, languages from lid.176 as in `documents`."""
    from warc_fixtures import extract_pages

    from corpus_assets.core.ingest.langid import LanguageIdentifier

    lid = LanguageIdentifier()
    pages = extract_pages(sorted((REPO / "data" / "sample-crawl").rglob("*.warc.gz")))
    return pl.DataFrame([{"doc_id": f"{page['path'].name}:{i}", "url": page["url"], "text": page["text"],
                          "lang": lid.predict(page["text"])[0]} for i, page in enumerate(pages)])


def test_real_pages(real_pages, default_bl, bw):
    out = compute_safety(real_pages, default_bl, bw)
    joined = real_pages.join(out, on="doc_id")
    tagged = joined.filter(pl.col("safety_tags").list.len() > 0)
    print(tagged.select("url", "safety_tags", "badword_ratio"))
    # clean real pages (Debian's handbook in many languages) stay untagged
    clean = joined.filter(pl.col("url").str.contains("debian-handbook.info", literal=True))
    assert clean.height > 50
    assert clean.get_column("safety_tags").list.len().sum() == 0
    # the real explicit page (an erotic story site) is tagged
    explicit = joined.filter(pl.col("url").str.contains("0513mt.com", literal=True))
    assert explicit.height == 1
    assert explicit.get_column("safety_tags").to_list() == [["adult_words"]]
    # tags are rare on a general crawl sample (precision)
    assert tagged.height <= max(5, real_pages.height // 50)


def test_sample_urls_parse_like_urlsplit(real_pages):
    """The one host parser gives what `urlsplit` gives on every URL of the sample crawl."""
    from urllib.parse import urlsplit

    urls = real_pages.get_column("url").to_list()
    assert len(urls) > 500
    assert [url_host(u) for u in urls] == [(urlsplit(u).hostname or "").lower() for u in urls]
