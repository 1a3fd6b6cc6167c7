"""Make the reference-quality excerpt the quality model's bootstrap uses as positives.

Reads WikiText-2's validation split (Wikipedia articles, CC BY-SA 3.0) from the shared folder once, at
development time, and writes `corpus_assets/data/reference/wikitext-2-valid-excerpt.jsonl`: one JSON
object per article section (`id`, `title`, `lang`, `text`), the first sections up to ~300 KB, with
WikiText's tokenisation undone (`@-@` joins, spaces before punctuation) and its `<unk>` placeholders
removed, so the text looks like extracted web prose rather than a tokenised data set.

    python scripts/make_reference_excerpt.py [/work/shared/data/reference/wikitext-2-valid.txt]
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

SOURCE = Path("/work/shared/data/reference/wikitext-2-valid.txt")
TARGET = Path(__file__).resolve().parents[1] / "corpus_assets" / "data" / "reference" / "wikitext-2-valid-excerpt.jsonl"
MAX_BYTES = 300_000
MIN_SECTION_CHARS = 300

_ARTICLE = re.compile(r"^ = ([^=].*?) = $")
_SECTION = re.compile(r"^ (?:= )+(.*?) (?:= ?)+$")


def detokenize(line: str) -> str:
    line = re.sub(r" @(.)@ ", r"\1", line)
    line = re.sub(r"\s*<unk>\s*", " ", line)
    line = re.sub(r" ([,.;:!?)\]%]|'s|n't|'re|'ve|'ll|'d)(?=\s|$)", r"\1", line)
    line = re.sub(r"([(\[$]) ", r"\1", line)
    return re.sub(r"\s+", " ", line).strip()


def sections(lines: list[str]):
    article, heading, body = "", "", []
    for line in lines:
        if m := _ARTICLE.match(line):
            yield article, heading, body
            article = heading = detokenize(m.group(1))
            body = []
        elif m := _SECTION.match(line):
            yield article, heading, body
            heading, body = detokenize(m.group(1)), []
        elif line.strip():
            body.append(detokenize(line))
    yield article, heading, body


def main(source: Path = SOURCE) -> None:
    out, size = [], 0
    for article, heading, body in sections(source.read_text(encoding="utf-8").splitlines()):
        text = "\n".join([heading, *body]) if body else ""
        if len(text) < MIN_SECTION_CHARS:
            continue
        row = {"id": f"wikitext-2-valid:{len(out):04d}", "title": f"{article} - {heading}" if heading != article else article,
               "lang": "en", "text": text}
        line = json.dumps(row, ensure_ascii=False) + "\n"
        if size + len(line.encode()) > MAX_BYTES:
            break
        out.append(line)
        size += len(line.encode())
    TARGET.write_text("".join(out), encoding="utf-8")
    print(f"{TARGET}: {len(out)} sections, {size:,} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
