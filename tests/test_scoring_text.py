"""The quality model's input text, and the jieba-rs segmenter behind Chinese words."""
import re

import pytest
from text_fixtures import FIXTURES
from warc_fixtures import SAMPLE, extract_pages

from corpus_assets.core.text import words
from corpus_assets.core.scoring.text import MAX_CHARS, model_text, model_texts

HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def test_model_text_is_one_lowercased_line_of_tokens():
    text = "Das Kapitel 3 beschreibt\nDEBIAN-Pakete: apt, dpkg...\n\n»Mehr«"
    assert model_text(text, "de") == "das kapitel 3 beschreibt debian-pakete : apt , dpkg ... » mehr «"


def test_model_text_uses_the_signals_segmentation_for_chinese_and_japanese():
    zh = (FIXTURES / "zh_debian_handbook_why_gnu_linux.txt").read_text(encoding="utf-8")
    assert model_text(zh, "zh").split() == [t.lower() for t in words.tokenize(zh[:MAX_CHARS], "zh")]
    assert model_text("日本語の文章を書きました。", "ja") == "日本語 の 文章 を 書 きました 。"


def test_model_text_reads_only_the_first_max_chars():
    text = (FIXTURES / "wikitext_homarus.txt").read_text(encoding="utf-8")
    assert len(text) > 3 * MAX_CHARS
    assert model_text(text, "en") == model_text(text[:MAX_CHARS], "en")
    assert model_text(text, "en", max_chars=50) == model_text(text[:50], "en")
    assert len(model_text(text, "en", max_chars=50)) < len(model_text(text, "en"))


def test_a_label_prefix_in_a_page_does_not_become_a_fasttext_label():
    assert "__label__" not in model_text("see __label__1 and __LABEL__x here", "en")


def test_empty_text_gives_empty_model_text():
    assert model_texts([None, "", "  \n "], ["en", "zh", "ja"]) == ["", "", ""]


def test_jieba_rs_segments_every_chinese_run_of_the_sample_as_jieba_does():
    jieba = pytest.importorskip("jieba")
    pages = extract_pages(sorted(SAMPLE.glob("crawl-data/*/segments/*/warc/*.warc.gz")))
    runs = sorted({run for page in pages for run in HAN_RUN.findall(page["text"])})
    assert sum(len(r) for r in runs) > 10_000  # the sample's Chinese pages, not a handful of characters
    mismatches = [run for run in runs if words._cut_han(run) != list(jieba.cut(run, HMM=False))]
    assert mismatches == []
