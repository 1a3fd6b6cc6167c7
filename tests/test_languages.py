"""One rule for language codes (core/text/languages.py), used by tokenisation, stop words and bad words."""
from __future__ import annotations

import pytest

from corpus_assets.core.safety.badwords import BadWords
from corpus_assets.core.text.languages import is_cjk, is_unspaced, normalize_lang
from corpus_assets.core.text.words import stopwords, tokenize


@pytest.mark.parametrize("code, expected", [
    ("zh", "zh"), ("ZH", "zh"), ("zh-Hans", "zh"), ("zh_TW", "zh"), ("zh-hant-HK", "zh"),
    ("yue", "zh"), ("wuu", "zh"), ("cmn", "zh"), ("lzh", "zh"), ("__label__zh", "zh"),
    ("ja", "ja"), (" JA ", "ja"), ("ko", "ko"), ("en-US", "en"), ("pt_BR", "pt"), ("de", "de"),
    (None, ""), ("", ""),
])
def test_normalize_lang(code, expected):
    assert normalize_lang(code) == expected


def test_language_classes_follow_the_rule():
    for code in ("zh", "zh-Hans", "zh_TW", "yue", "wuu", "ja", "JA"):
        assert is_unspaced(code) and is_cjk(code), code
    assert is_cjk("ko") and not is_unspaced("ko")
    for code in ("en", "de", "vi", None, ""):
        assert not is_unspaced(code) and not is_cjk(code), code


def test_every_user_agrees_on_chinese():
    """Tokeniser, stop words and bad-word lists treat a Chinese variety or region tag as zh."""
    text = "我们需要长期监视这些软件包的性能"
    bad = BadWords({"zh": ["做爱"]})
    for code in ("zh-Hans", "zh_TW", "yue", "wuu"):
        assert tokenize(text, code) == tokenize(text, "zh"), code
        assert stopwords(code) == stopwords("zh") != frozenset(), code
        assert bad.count("他们做爱", code) == bad.count("他们做爱", "zh") == (1, 2.0), code
