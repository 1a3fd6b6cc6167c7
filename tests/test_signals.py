"""Quality signals on real text (fixtures extracted from the sample crawl, see
tests/fixtures/text/make_fixtures.py) in several languages."""

from __future__ import annotations

import math
import re
from collections import Counter

import polars as pl
import pytest

from corpus_assets.core.text import words as W
from corpus_assets.core.quality.signals import SIGNAL_COLUMNS, SIGNAL_SCHEMA, TERMINAL_PUNCT, compute_signals, document_signals
from corpus_assets.core.text.languages import is_cjk, is_unspaced
from corpus_assets.core.text.words import split_words, stopword_languages, stopwords, tokenize

from text_fixtures import FIXTURES, LANG_OF


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def all_fixtures() -> pl.DataFrame:
    return pl.DataFrame(
        {"doc_id": list(LANG_OF), "text": [fixture(n) for n in LANG_OF], "lang": list(LANG_OF.values())}
    )


def repeated_page() -> str:
    """A page made of a few real lines repeated over and over (menu / template spam)."""
    lines = [ln for ln in fixture("de_wdr_article.txt").splitlines() if len(ln) > 40][:3]
    return "\n".join(lines * 12)


# --------------------------------------------------------------------------------------
# words.py


def test_spaced_tokenisation_keeps_contractions_and_splits_punctuation():
    assert tokenize("Don't stop-words, e.g. #tags... ok!", "en") == [
        "Don't", "stop-words", ",", "e", ".", "g", ".", "#", "tags", "...", "ok", "!",
    ]
    assert split_words("Don't stop-words, e.g. #tags... ok!", "en") == ["Don't", "stop-words", "e", "g", "tags", "ok"]


_TRICKY = ("a-b-c a--b -a- a'-b x.-b don't e\u2019mail 'quoted' -- --x x-- \x00a a\x00 \ud800x \u2183 \u2184x "
           "\u00b2a \u00bd \u2460 word_1 \u00a0nbsp\u3000ideo\u2028sep\x1c\x85 \u200cz\u200d \U0001F600emoji")


def test_token_arrays_are_the_tokens_of_tokenize(all_fixtures):
    from corpus_assets.core.text.token_arrays import spaced_tokens, string_hashes

    texts = [*all_fixtures["text"].to_list(), _TRICKY, "", " ", "-", "a", "\n\n"]
    batch = spaced_tokens(texts)
    for i, text in enumerate(texts):
        toks = tokenize(text, "en")
        a, b = batch.offsets[i], batch.offsets[i + 1]
        assert batch.lengths[a:b].tolist() == list(map(len, toks))
        assert batch.hashes[a:b].tolist() == string_hashes(toks).tolist()
        assert batch.is_word[a:b].tolist() == [bool(W.is_word_token(t)) for t in toks]
        assert batch.has_alpha[a:b].tolist() == [bool(W.HAS_ALPHA(t)) for t in toks]
        one = spaced_tokens([text])  # a text's tokens do not depend on the texts batched with it
        assert one.hashes.tolist() == batch.hashes[a:b].tolist()
    distinct = sorted({t for text in texts for t in tokenize(text, "en")})
    assert len(set(string_hashes(distinct).tolist())) == len(distinct)


def test_token_hashes_do_not_depend_on_the_power_table_kept(monkeypatch):
    from corpus_assets.core.text import token_arrays as TA

    texts = [_TRICKY, "word " * 40, "x"]
    expect = TA.spaced_tokens(texts).hashes.tolist()
    monkeypatch.setattr(TA, "_POWERS_KEPT", 64)
    monkeypatch.setattr(TA, "_POWERS", [])
    assert TA.spaced_tokens(texts).hashes.tolist() == expect
    assert TA.spaced_tokens(texts[:1]).hashes.tolist() == expect[: len(tokenize(_TRICKY, "en"))]


@pytest.mark.parametrize("size", [1, 7, 57, 1000])
def test_hash_set_membership_equals_isin(size):
    import numpy as np

    from corpus_assets.core.quality.signals import _HashSet

    rng = np.random.default_rng(size)
    members = rng.integers(0, 2**63, size, dtype=np.int64).view(np.uint64) * np.uint64(2) + np.uint64(size % 2)
    probe = np.concatenate([members, rng.integers(0, 2**63, 5000, dtype=np.int64).view(np.uint64), members[:3]])
    assert (_HashSet.of(members).contains(probe) == np.isin(probe, members)).all()


def test_stop_word_count_is_a_count_of_listed_tokens(all_fixtures):
    for text, lang in all_fixtures.select("text", "lang").iter_rows():
        sw = stopwords(lang)
        words = [t for t in tokenize(text, lang) if t.lower() in sw and t in {t.lower(), t.capitalize(), t.upper()}]
        assert document_signals(text, lang)["gopher_stop_word_count"] == len(words), lang


def test_arabic_and_hindi_words_are_not_broken_at_combining_marks():
    assert split_words("مُحَمَّد ذهب", "ar") == ["مُحَمَّد", "ذهب"]
    assert split_words("हिन्दी भाषा", "hi") == ["हिन्दी", "भाषा"]


def test_chinese_is_segmented_with_jieba():
    jieba = pytest.importorskip("jieba")
    text = fixture("zh_xinhua_article.txt")
    zh_words = split_words(text, "zh")
    # whitespace "words" of a Chinese article are whole clauses; the segmenter finds real words
    assert len(text.split()) < 50
    assert len(zh_words) > 10 * len(text.split())
    assert "武汉" in zh_words and "孩子" in zh_words
    # jieba-rs gives exactly jieba's own (HMM-free) segmentation
    for run in re.findall(r"[\u4e00-\u9fff]+", text):
        assert W._cut_han(run) == list(jieba.cut(run, HMM=False)), run


def test_chinese_mixed_with_latin_keeps_latin_words_whole():
    toks = tokenize("安装 Debian 软件包需要 dpkg -i 命令。", "zh")
    assert "Debian" in toks and "dpkg" in toks and "。" in toks
    assert "软件包" in toks or ("软件" in toks and "包" in toks)


def test_japanese_script_run_segmentation():
    assert tokenize("日本語の文章を書きました。", "ja") == ["日本語", "の", "文章", "を", "書", "きました", "。"]
    assert tokenize("Debianのパッケージ管理", "ja") == ["Debian", "の", "パッケージ", "管理"]
    words = split_words(fixture("ja_debian_handbook_creating_accounts.txt"), "ja")
    assert sum(w in stopwords("ja") for w in words) > 20  # particles surface as their own tokens


def test_korean_is_space_separated():
    assert split_words("데비안 패키지를 설치할 수 있습니다.", "ko") == ["데비안", "패키지를", "설치할", "수", "있습니다"]


def test_language_classes():
    assert is_cjk("zh") and is_cjk("ja") and is_cjk("ko") and is_cjk("yue")
    assert not is_cjk("en") and not is_cjk(None) and not is_cjk("")
    assert is_unspaced("zh") and is_unspaced("JA") and not is_unspaced("ko")


def test_stop_word_lists_shipped():
    required = {"en", "de", "fr", "es", "it", "nl", "pt", "ru", "zh", "ja", "ko", "vi", "ar"}
    assert required <= stopword_languages()
    assert stopwords("en") == frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})  # Gopher's
    for lang in required:
        assert len(stopwords(lang)) >= 8, lang
    assert stopwords("xx") == frozenset()


# --------------------------------------------------------------------------------------
# schema / robustness


def test_compute_signals_schema_and_order(all_fixtures):
    out = compute_signals(all_fixtures)
    assert out.columns == ["doc_id", *SIGNAL_COLUMNS]
    assert out.schema == pl.Schema({"doc_id": pl.String, **SIGNAL_SCHEMA})
    assert out["doc_id"].to_list() == all_fixtures["doc_id"].to_list()
    assert out.null_count().sum_horizontal().item() == 0
    floats = [c for c, t in SIGNAL_SCHEMA.items() if t == pl.Float64]
    assert not out.select(pl.any_horizontal(pl.col(floats).is_nan() | pl.col(floats).is_infinite()).any()).item()
    # fractions are fractions
    fracs = [c for c in SIGNAL_COLUMNS if c.endswith("_frac")]
    assert out.select(pl.all_horizontal(pl.col(fracs).is_between(0.0, 1.0)).all()).item()


@pytest.mark.parametrize("text", ["", "   \n\n \t", None, "\n", "#", "…", "{"])
@pytest.mark.parametrize("lang", ["en", "zh", "ja", "ko", None, "xx"])
def test_degenerate_text_gives_finite_values(text, lang):
    sig = document_signals(text, lang)
    assert set(sig) == set(SIGNAL_COLUMNS)
    assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in sig.values())
    assert (text or "").strip() or all(v == 0 for v in sig.values())  # blank text: every signal is 0


def test_empty_frame():
    out = compute_signals(pl.DataFrame(schema={"doc_id": pl.String, "text": pl.String, "lang": pl.String}))
    assert out.height == 0 and out.schema == pl.Schema({"doc_id": pl.String, **SIGNAL_SCHEMA})


@pytest.mark.parametrize("chunk_chars", [None, 1, 5000])
def test_compute_signals_equals_document_signals(all_fixtures, chunk_chars, monkeypatch):
    if chunk_chars:  # texts are tokenised in chunks: any chunking gives the same signals
        import corpus_assets.core.quality.signals as S

        monkeypatch.setattr(S, "_CHUNK_CHARS", chunk_chars)
    out = compute_signals(all_fixtures)
    for row, (text, lang) in zip(out.iter_rows(named=True), all_fixtures.select("text", "lang").iter_rows()):
        expect = document_signals(text, lang)
        assert {k: row[k] for k in SIGNAL_COLUMNS} == expect


# --------------------------------------------------------------------------------------
# CJK awareness


def test_clean_chinese_article_has_enough_words_and_punctuation():
    text = fixture("zh_xinhua_article.txt")
    sig = document_signals(text, "zh")
    assert len(text.split()) < 50 <= sig["gopher_word_count"]
    assert 1.2 < sig["gopher_mean_word_length"] < 3.0  # jieba words, not whole clauses
    assert sig["gopher_stop_word_count"] >= 20  # 的 / 了 / 是 ...
    # ASCII-only terminal punctuation would call this article unpunctuated
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    ascii_share = sum(ln.endswith((".", "!", "?", '"', "'")) for ln in lines) / len(lines)
    assert ascii_share <= 0.12 < sig["fineweb_line_punct_frac"]
    assert sig["c4_sentence_count"] >= 5


def test_chinese_top_ngrams_do_not_count_phantom_spaces():
    text = "我们" * 200
    sig = document_signals(text, "zh")
    # 2-gram "我们我们" occurs ~199 times, 4 chars each, no separator in unspaced text
    assert sig["gopher_top_2gram_char_frac"] == pytest.approx(199 * 4 / len(text))


# --------------------------------------------------------------------------------------
# Gopher repetition: the exact datatrove definitions


def _reference_repetition(text: str, lang: str) -> dict[str, float]:
    """Straightforward re-statement of datatrove's GopherRepetitionFilter quantities."""
    out: dict[str, float] = {}

    def dups(items):
        seen, n, chars = set(), 0, 0
        for x in items:
            if x in seen:
                n += 1
                chars += len(x)
            else:
                seen.add(x)
        return n, chars

    paragraphs = re.split(r"\n{2,}", text.strip())
    n, c = dups(paragraphs)
    out["gopher_dup_para_frac"], out["gopher_dup_para_char_frac"] = n / len(paragraphs), c / len(text)
    lines = re.split(r"\n+", text)
    n, c = dups(lines)
    out["gopher_dup_line_frac"], out["gopher_dup_line_char_frac"] = n / len(lines), c / len(text)
    toks = tokenize(text, lang)
    sep = "" if is_unspaced(lang) else " "
    for n in (2, 3, 4):
        grams = [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
        gram, cnt = Counter(grams).most_common(1)[0]
        out[f"gopher_top_{n}gram_char_frac"] = len(sep.join(gram)) * cnt / len(text)
    for n in range(5, 11):
        seen, idx, rep = set(), 0, 0
        while idx < len(toks) - n + 1:
            gram = tuple(toks[idx : idx + n])
            if gram in seen:
                rep += len("".join(gram))
                idx += n
            else:
                seen.add(gram)
                idx += 1
        out[f"gopher_dup_{n}gram_char_frac"] = rep / len(text)
    return out


@pytest.mark.parametrize("name", sorted(LANG_OF) + ["<repeated>"])
def test_repetition_signals_match_reference(name):
    text = repeated_page() if name == "<repeated>" else fixture(name)
    lang = "de" if name == "<repeated>" else LANG_OF[name]
    sig = document_signals(text, lang)
    for key, value in _reference_repetition(text, lang).items():
        assert sig[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key


@pytest.mark.parametrize("text", [
    "\na b\n \nb c d\na b\n", "a b\u2028b c\na b\nb c", "\n\nx y z\n\nx y z\n\n", "x y\ny z\n", "\nx y\ny z",
    "x y\x0cy z\nx y\n\ty z\n", "  \n\n x y z \n x y z",
    "one two three four five six seven eight nine ten eleven " * 3 + "one two three four five six",
    "a b a b a b c a b a b a b c d e a b a b a b c",
])
def test_repetition_signals_match_reference_on_odd_texts(text):
    sig = document_signals(text, "en")
    for key, value in _reference_repetition(text, "en").items():
        assert sig[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key


def test_repetition_high_on_page_of_repeated_lines():
    clean = document_signals(fixture("de_wdr_article.txt"), "de")
    spam = document_signals(repeated_page(), "de")
    assert clean["gopher_dup_line_frac"] == 0 and clean["gopher_dup_5gram_char_frac"] < 0.05
    assert spam["gopher_dup_line_frac"] == pytest.approx(33 / 36)
    assert spam["gopher_dup_line_char_frac"] > 0.8
    assert spam["gopher_dup_10gram_char_frac"] > 0.7  # n-gram chars exclude the spaces
    assert spam["fineweb_dup_line_char_frac"] > 0.8
    assert spam["gopher_dup_para_frac"] == 0  # one paragraph: paragraph signals stay 0


# --------------------------------------------------------------------------------------
# Gopher quality / C4 / FineWeb on real pages


def test_gopher_quality_on_english_article():
    sig = document_signals(fixture("en_physorg_article.txt"), "en")
    assert 300 < sig["gopher_word_count"] < 1000
    assert 4.0 < sig["gopher_mean_word_length"] < 6.0
    assert sig["gopher_alpha_word_frac"] > 0.9
    assert sig["gopher_stop_word_count"] > 50
    assert sig["c4_sentence_count"] >= 20


def test_stats_table_page_looks_like_a_table():
    sig = document_signals(fixture("lowq_tippspiel_stats.txt"), "de")
    assert sig["gopher_alpha_word_frac"] < 0.8  # many numbers-only words
    assert sig["fineweb_short_line_frac"] > 0.9
    assert sig["fineweb_line_punct_frac"] < 0.12


def test_bullets_and_ellipses():
    text = "\n\n".join(f"• item number {i} of the list..." for i in range(9)) + "\n\nA closing sentence here."
    sig = document_signals(text, "en")
    assert sig["gopher_bullet_line_frac"] == pytest.approx(0.9)
    assert sig["gopher_ellipsis_line_frac"] == pytest.approx(0.9)
    assert sig["gopher_ellipsis_word_ratio"] == pytest.approx(9 / (9 * 6 + 4))


def test_c4_line_signals():
    article = fixture("en_physorg_article.txt")
    extra = "\n".join([
        "Please enable JavaScript to view the comments powered by Disqus.",
        "This site uses cookies to improve your experience.",
        "Read our Privacy Policy and Terms of Use.",
        "var config = { key: value, other: thing };",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
        "{",  # < 3 words: not a C4 candidate line
    ])
    base = document_signals(article, "en")
    sig = document_signals(article + "\n" + extra, "en")
    assert base["c4_javascript_line_count"] == 0 and sig["c4_javascript_line_count"] == 1
    assert base["c4_policy_line_count"] == 1  # the page's own cookie banner line
    assert sig["c4_policy_line_count"] == 3
    assert base["c4_curly_bracket_line_count"] == 0 and sig["c4_curly_bracket_line_count"] == 1
    assert base["c4_lorem_ipsum_count"] == 0 and sig["c4_lorem_ipsum_count"] == 1
    assert sig["c4_sentence_count"] == base["c4_sentence_count"] + 1  # only the lorem line counts


def test_policy_hints_cover_every_policy_phrase():
    from corpus_assets.core.quality.signals import _POLICY_HINTS, POLICY_SUBSTRINGS

    assert all(any(hint in phrase for hint in _POLICY_HINTS) for phrase in POLICY_SUBSTRINGS)


def test_sentence_count():
    text = "First sentence here. Second one follows! A third? Yes indeed.\nshort\nAnother line with words."
    assert document_signals(text, "en")["c4_sentence_count"] == 5
    zh = "今天天气很好。我们去公园散步。孩子们在草地上玩耍。"
    assert document_signals(zh, "zh")["c4_sentence_count"] == 3


def test_terminal_punctuation_and_citations():
    text = "A line that ends well.\nA cited claim that ends.[1]\nTrailing ellipsis goes here...\nno punctuation at all"
    sig = document_signals(text, "en")
    assert sig["c4_terminal_punct_line_frac"] == pytest.approx(2 / 4)
    assert sig["fineweb_line_punct_frac"] == pytest.approx(2 / 4)  # "..." ends with "." for FineWeb
    assert set(TERMINAL_PUNCT) >= {".", "!", "?", '"', "'", "。", "！", "？"}


def test_blank_lines_do_not_count_as_short_lines():
    para = "This is a reasonably long paragraph line that ends with a full stop."
    single = "\n".join([para] * 1 + [f"{para} {i}" for i in range(5)])
    double = single.replace("\n", "\n\n")
    a, b = document_signals(single, "en"), document_signals(double, "en")
    for key in ("fineweb_short_line_frac", "fineweb_line_punct_frac", "fineweb_newline_word_ratio",
                "c4_terminal_punct_line_frac", "c4_sentence_count"):
        assert a[key] == b[key], key
