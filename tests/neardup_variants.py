"""A labelled crawl of realistic near-duplicate variants (issue 16), made from the articles in
`tests/fixtures/neardup/` (English news, Chinese and Japanese Debian Handbook pages).

Every source article is published as an original on a news host, plus variants on other hosts:
  appended   one or two paragraphs of another article appended (~15 % longer)
  deleted    one paragraph deleted
  edited     a corrected re-publication: numbers changed and ~2 % of words (CJK: characters) replaced
  template   the identical text inside a portal's template: an "about us" block and a related-links
             list inside the main content, the same template on every page of that portal
Portals also carry distinct articles (no variant anywhere) in the same template: they share the
template with the template variants and must not be merged with them. Pages go to shards at random,
so a portal has about one page per shard: its template is boilerplate only when counted across shards.

Truth: two pages are duplicates when they come from the same source article; recall is measured over
the pairs whose article texts (template excluded) have a word-5-gram (CJK: character-5-gram) Jaccard of
at least 0.6, precision over every pair found.
"""
from __future__ import annotations

import html
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "neardup"
KINDS = ("appended", "deleted", "edited", "template")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


@dataclass
class Page:
    url: str
    host: str
    shard: int
    source: str  # the article it derives from
    kind: str  # original, appended, deleted, edited, template, distinct
    lang: str
    paragraphs: list[str]  # the article text as published (template excluded)
    title: str


def english_articles(limit: int | None = None) -> list[tuple[str, list[str]]]:
    """(id, paragraphs of three sentences) of the articles without a planted duplicate."""
    planted = {tid for line in (FIXTURES / "articles_1000.truth").read_text().split() for tid in [line]}
    out = []
    for line in (FIXTURES / "articles_1000.train").read_text().splitlines():
        tid, text = line.split(" ", 1)
        if tid in planted:
            continue
        sentences = _SENTENCE.split(text.strip())
        paragraphs = [" ".join(sentences[i:i + 3]) for i in range(0, len(sentences), 3)]
        if len(paragraphs) >= 4:
            out.append((tid, paragraphs))
    out = _distinct(out)
    return out[:limit] if limit else out


def _distinct(articles: list[tuple[str, list[str]]], limit: float = 0.05) -> list[tuple[str, list[str]]]:
    """Articles sharing no paragraph and no more than `limit` of their 5-grams with an earlier one."""
    kept, seen_paragraphs, seen_grams = [], set(), {}
    for tid, paragraphs in articles:
        grams = shingles(" ".join(paragraphs), "en")
        if seen_paragraphs.isdisjoint(paragraphs):
            shared = sum(1 for g in grams if g in seen_grams)
            if shared <= limit * len(grams):
                kept.append((tid, paragraphs))
                seen_paragraphs.update(paragraphs)
                seen_grams.update(dict.fromkeys(grams))
    return kept


def cjk_articles() -> list[tuple[str, str, list[str]]]:
    """(id, lang, paragraphs) of the Chinese and Japanese articles."""
    rows = [json.loads(line) for line in (FIXTURES / "cjk_articles.jsonl").read_text().splitlines() if line.strip()]
    return [(row["id"], row["lang"], row["paragraphs"]) for row in rows]


def shingles(text: str, lang: str, n: int = 5) -> set:
    """Word 5-grams (lower-cased word characters), or character 5-grams for Chinese and Japanese."""
    if lang in ("zh", "ja"):
        tokens = [c for c in text if c.isalnum()]
    else:
        tokens = re.findall(r"\w+", text.lower())
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def jaccard(a: Page, b: Page) -> float:
    sa, sb = shingles("\n".join(a.paragraphs), a.lang), shingles("\n".join(b.paragraphs), b.lang)
    return len(sa & sb) / len(sa | sb) if sa or sb else 1.0


def _edit(paragraphs: list[str], lang: str, rng: random.Random, vocabulary: list[str]) -> list[str]:
    """Change every number and ~2 % of the words (CJK: characters)."""
    out = []
    for paragraph in paragraphs:
        paragraph = re.sub(r"\d+", lambda m: str(int(m.group()) + rng.randint(1, 9)), paragraph)
        if lang in ("zh", "ja"):
            chars = list(paragraph)
            for i, c in enumerate(chars):
                if _CJK.match(c) and rng.random() < 0.02:
                    chars[i] = rng.choice(vocabulary)
            out.append("".join(chars))
        else:
            words = paragraph.split(" ")
            out.append(" ".join(rng.choice(vocabulary) if rng.random() < 0.02 else w for w in words))
    return out


def variant_pages(n_english: int = 40, n_cjk: int = 20, n_shards: int = 6, n_portals: int = 3,
                  distinct_per_portal: int = 6, seed: int = 0, all_kinds: bool = False) -> list[Page]:
    """Originals, one variant each (the kinds in turn; all four with `all_kinds`) and the portals'
    distinct articles, spread over `n_shards`."""
    rng = random.Random(seed)
    english = english_articles()
    bases = [(tid, "en", paragraphs) for tid, paragraphs in english[:n_english]]
    fillers = {"en": [p for _, p in english[n_english:]], "zh": [], "ja": []}
    for lang in ("zh", "ja"):  # half of the CJK sources Chinese, half Japanese; the rest are fillers
        articles = [row for row in cjk_articles() if row[1] == lang]
        bases += articles[:n_cjk // 2]
        fillers[lang] = [paragraphs for _, _, paragraphs in articles[n_cjk // 2:]]
    vocab = {"en": sorted({w for _, p in english[:200] for w in " ".join(p).split() if w.isalpha()}),
             "zh": sorted({c for _, lang, p in cjk_articles() if lang == "zh" for c in "".join(p) if _CJK.match(c)}),
             "ja": sorted({c for _, lang, p in cjk_articles() if lang == "ja" for c in "".join(p) if _CJK.match(c)})}
    pages: list[Page] = []

    def add(host: str, source: str, kind: str, lang: str, paragraphs: list[str], title: str) -> None:
        pages.append(Page(f"https://{host}/{kind}/{source}-{len(pages)}", host, rng.randrange(n_shards), source, kind,
                          lang, paragraphs, title))

    for i, (source, lang, paragraphs) in enumerate(bases):
        title = paragraphs[0][:60]
        add(f"news{i % 8}.example", source, "original", lang, paragraphs, title)
        kinds = KINDS if all_kinds else (KINDS[i % len(KINDS)],)
        if "appended" in kinds:  # text of an article published nowhere else, ~15 % of the length or more
            other = (fillers[lang] or fillers["en"]).pop()
            extra = other[: 1 if len(other[0]) >= 0.12 * sum(map(len, paragraphs)) else 2]
            add(f"mirror{i % 5}.example", source, "appended", lang, paragraphs + extra, title)
        if "deleted" in kinds:
            cut = rng.randrange(1, len(paragraphs))
            add(f"digest{i % 5}.example", source, "deleted", lang, paragraphs[:cut] + paragraphs[cut + 1:], title)
        if "edited" in kinds:
            add(f"wire{i % 5}.example", source, "edited", lang, _edit(paragraphs, lang, rng, vocab[lang]), title)
        if "template" in kinds:
            add(f"portal{i % n_portals}.example", source, "template", lang, paragraphs, title)
    for p in range(n_portals):
        for lang in ("en", "zh", "ja"):
            pool = fillers[lang]
            for k in range(distinct_per_portal if lang == "en" else 1):
                if pool:
                    paragraphs = pool.pop()
                    add(f"portal{p}.example", f"distinct-{lang}-{p}-{k}", "distinct", lang, paragraphs, paragraphs[0][:60])
    return pages


_ABOUT = {
    "en": ["About {site}", "{site} is an independent news portal founded in 1998 by a group of journalists. "
           "We publish world news, business reports and analysis around the clock, and our newsroom follows "
           "the standards of the press council.", "Contact our newsroom: tips@{site} or call the front desk."],
    "zh": ["关于{site}", "{site}是一家成立于一九九八年的独立新闻门户网站，由一群资深记者创办。我们全天候发布国内外新闻、"
           "财经报道和深度分析，编辑部遵守新闻评议会的各项准则。", "联系我们的编辑部：请发送邮件或致电前台。"],
    "ja": ["{site}について", "{site}は一九九八年にジャーナリストのグループによって設立された独立系ニュースポータルです。"
           "国内外のニュース、経済記事、分析を二十四時間配信しており、編集部は報道評議会の基準に従っています。",
           "編集部へのお問い合わせはメールまたはお電話で受け付けています。"],
}


def page_html(page: Page, portal_headlines: dict[str, list[str]]) -> bytes:
    """The page: a news site's plain layout, or a portal's template with a related-stories list (a link
    and a teaser sentence each) and an about block inside the main content, the same on every page of
    that portal."""
    paragraphs = [f"<p>{html.escape(p)}</p>" for p in page.paragraphs]
    nav = "<nav><a href='/'>Home</a> <a href='/world'>World</a> <a href='/business'>Business</a></nav>"
    if page.host.startswith("portal"):  # related links after the second paragraph, the about block last
        about = [line.format(site=page.host) for line in _ABOUT[page.lang]]
        related = "".join(f"<div><a href='/r/{i}'>{html.escape(h[:50])}</a><p>{html.escape(h)}</p></div>"
                          for i, h in enumerate(portal_headlines[page.host]))
        paragraphs.insert(2, f"<h3>Related</h3><div>{related}</div>")
        paragraphs.append(f"<div><h3>{html.escape(about[0])}</h3><p>{html.escape(about[1])}</p>"
                          f"<p>{html.escape(about[2])}</p></div>")
    body = "".join(paragraphs)
    return (f"<html><head><title>{html.escape(page.title)}</title></head><body>{nav}<article>"
            f"<h1>{html.escape(page.title)}</h1>{body}</article><footer>© {page.host}</footer></body></html>").encode()


def portal_headlines(pages: list[Page], per_portal: int = 6) -> dict[str, list[str]]:
    hosts = sorted({p.host for p in pages if p.host.startswith("portal")})
    english = english_articles()
    # a teaser per related story: the first sentence of an article published nowhere else
    return {host: [_SENTENCE.split(paragraphs[0])[0] for _, paragraphs in english[-(k + 1) * per_portal:][:per_portal]]
            for k, host in enumerate(hosts)}


def write_variant_crawl(root: Path, crawl: str, pages: list[Page]) -> None:
    """One WARC file per shard, in Common Crawl's layout under `root`."""
    from warc_fixtures import warc_response, write_crawl

    headlines = portal_headlines(pages)
    n_shards = max(p.shard for p in pages) + 1
    files = {f"shard{s:02d}.warc.gz": b"".join(warc_response(p.url, page_html(p, headlines))
                                                 for p in pages if p.shard == s) for s in range(n_shards)}
    write_crawl(root, crawl, files)


def truth_pairs(pages: list[Page], min_jaccard: float = 0.6) -> dict[tuple[str, str], tuple[str, float]]:
    """{(url, url): (kind, Jaccard)} for pairs of one source article with Jaccard >= `min_jaccard`;
    the kind of a pair is its variant's kind (`variant-variant` between two variants)."""
    by_source: dict[str, list[Page]] = {}
    for page in pages:
        by_source.setdefault(page.source, []).append(page)
    out = {}
    for members in by_source.values():
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                j = jaccard(a, b)
                if j >= min_jaccard:
                    kind = b.kind if a.kind == "original" else a.kind if b.kind == "original" else "variant-variant"
                    out[tuple(sorted((a.url, b.url)))] = (kind, j)
    return out


def evaluate(found: set[tuple[str, str]], pages: list[Page], truth: dict) -> dict:
    """Recall by kind, language and Jaccard band over `truth`; precision over the `found` pairs."""
    source = {p.url: p.source for p in pages}
    lang = {p.url: p.lang for p in pages}
    correct = {pair for pair in found if source.get(pair[0]) == source.get(pair[1])}
    report: dict = {"pairs_found": len(found), "precision": len(correct) / len(found) if found else 1.0,
                    "recall": len(set(truth) & found) / len(truth) if truth else 1.0, "truth_pairs": len(truth)}
    groups: dict[str, list[bool]] = {}
    for pair, (kind, j) in truth.items():
        band = "0.6-0.7" if j < 0.7 else "0.7-0.8" if j < 0.8 else "0.8-0.9" if j < 0.9 else "0.9-1.0"
        for key in (f"kind:{kind}", f"lang:{lang[pair[0]]}", f"jaccard:{band}"):
            groups.setdefault(key, []).append(pair in found)
    report["recall_by"] = {key: (sum(hits) / len(hits), len(hits)) for key, hits in sorted(groups.items())}
    report["false_pairs"] = sorted(found - correct)[:10]
    return report
