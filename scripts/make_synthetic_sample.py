#!/usr/bin/env python3
"""Write a small synthetic source for the mixture demos: `corpus_assets/data/synthetic/synthetic-qa.jsonl`
(shipped in the package, so `corpus demo` imports it; `data/synthetic` is a link to that folder).

How it is generated (no language model is involved): every English or German page of the bundled
sample crawl (`data/sample-crawl/`, read with the project's own WARC reader, charset decoder,
resiliparse extraction and lid.176 language ID) that has a title and at least three sentences of
main text becomes one record of templated question-and-answer text. The questions come from fixed
templates in the page's language (chosen per page by a seeded `random.Random`); the answers are the
page's title, host and sentences, copied verbatim after the project's PII masking (`mask_pii`), with
sentences of 40-300 characters only, and pages skipped whose title is not in a Latin script (spam
titles on otherwise English pages) or whose URL has no real host; a title seen before (re-crawls,
mirrors) is used once. So the text is synthetic in form
(generated dialogue around real facts) and easy to tell from web text, which is what a spot check
should see.

Each line: `{"id", "text", "lang", "title", "url", "generator"}`. Deterministic: pages are taken in
URL order and the seed is fixed, so re-running gives identical bytes. Import it as a source with
`corpus import data/synthetic/synthetic-qa.jsonl --source synthetic-qa --synthetic --generator templated-qa-v1`
(what `corpus demo` does).

Usage: python scripts/make_synthetic_sample.py [--out corpus_assets/data/synthetic/synthetic-qa.jsonl] [--seed 15]
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import re
from pathlib import Path
from urllib.parse import urlsplit

from corpus_assets.core.ingest.charset import decode_html
from corpus_assets.core.ingest.extract import extract_main_text
from corpus_assets.core.ingest.langid import LanguageIdentifier
from corpus_assets.core.privacy.pii import mask_pii
from corpus_assets.core.ingest.warc_reader import iter_records

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample-crawl"
GENERATOR = "templated-qa-v1"
TEMPLATES = {
    "en": {
        "topic": [("What is the page \"{title}\" about?", "It opens with: {s0}"),
                  ("Can you summarise how \"{title}\" begins?", "The first sentence reads: {s0}")],
        "site": [("Where was \"{title}\" published?", "It appeared on {host}."),
                 ("Which website carries \"{title}\"?", "The page is hosted on {host}.")],
        "more": [("What does the text say after that?", "{s1} {s2}"),
                 ("Is there a further detail worth knowing?", "Yes: {s1}")],
    },
    "de": {
        "topic": [("Worum geht es auf der Seite \"{title}\"?", "Sie beginnt mit: {s0}"),
                  ("Wie fängt \"{title}\" an?", "Der erste Satz lautet: {s0}")],
        "site": [("Wo wurde \"{title}\" veröffentlicht?", "Auf der Website {host}."),
                 ("Welche Website bietet \"{title}\" an?", "Die Seite liegt auf {host}.")],
        "more": [("Was steht danach im Text?", "{s1} {s2}"),
                 ("Gibt es ein weiteres Detail?", "Ja: {s1}")],
    },
}
LABELS = {"en": ("Question", "Answer"), "de": ("Frage", "Antwort")}
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
NON_LATIN = re.compile(r"[^\u0000-\u024f\u2000-\u206f\u20ac]")  # anything beyond Latin, punctuation, €


def sample_pages() -> list[dict]:
    """English and German pages of the bundled sample with a title and three sentences, in URL order."""
    langid = LanguageIdentifier()
    pages: dict[str, dict] = {}
    for paths_file in sorted(SAMPLE.glob("crawl-data/*/warc.paths.gz")):
        for rel_path in gzip.decompress(paths_file.read_bytes()).decode().split():
            with open(SAMPLE / rel_path, "rb") as stream:
                for record in iter_records(stream):
                    decoded = decode_html(record.payload, record.content_type) if record.http_status == 200 else None
                    if decoded is None or record.url in pages:
                        continue
                    title, text = extract_main_text(decoded.text)
                    lang, _ = langid.predict(text or "")
                    text = mask_pii(" ".join((text or "").split()))[0]
                    sentences = [s for s in SENTENCE_END.split(text) if 40 <= len(s) <= 300]
                    if (lang in TEMPLATES and title and not NON_LATIN.search(title) and len(sentences) >= 3
                            and "." in (urlsplit(record.url).hostname or "")):
                        pages[record.url] = {"url": record.url, "title": mask_pii(title.strip())[0], "lang": lang,
                                             "sentences": sentences[:3]}
    unique: dict[str, dict] = {}
    for url in sorted(pages):
        unique.setdefault(pages[url]["title"], pages[url])
    return list(unique.values())


def qa_record(page: dict, rng: random.Random) -> dict:
    fields = {"title": page["title"], "host": urlsplit(page["url"]).hostname or "an unknown host",
              **{f"s{i}": sentence for i, sentence in enumerate(page["sentences"])}}
    question_label, answer_label = LABELS[page["lang"]]
    turns = []
    for kind in ("topic", "site", "more"):
        question, answer = rng.choice(TEMPLATES[page["lang"]][kind])
        turns.append(f"{question_label}: {question.format(**fields)}\n{answer_label}: {answer.format(**fields)}")
    return {"id": "synthetic-qa-" + hashlib.blake2b(page["url"].encode(), digest_size=8).hexdigest(),
            "text": "\n\n".join(turns), "lang": page["lang"], "title": page["title"], "url": page["url"],
            "generator": GENERATOR}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "corpus_assets" / "data" / "synthetic" / "synthetic-qa.jsonl")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    records = [qa_record(page, rng) for page in sample_pages()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    print(f"wrote {len(records)} records ({args.out.stat().st_size:,} bytes) to {args.out}")


if __name__ == "__main__":
    main()
