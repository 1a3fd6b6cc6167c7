"""The shared Unicode category array and the two code point tables derived from it agree with
`unicodedata`, code point by code point (the shipped runs over the whole range, the tables on a spread)."""
import unicodedata

import numpy as np
import pytest

from corpus_assets.core.dedup.minhash import _char_classes
from corpus_assets.core.dedup.text import _char_map
from corpus_assets.core.text import categories as categories_module
from corpus_assets.core.text.categories import (CODE_POINTS, _from_unicodedata, category_runs_path, general_categories,
                                                write_category_runs)

# every 61st code point, plus the boundaries of the classes the tables single out
SAMPLE = sorted(set(range(0, CODE_POINTS, 61)) | {0, 9, 10, 32, 48, 95, 0xAD, 0x300, 0x36F, 0x3042, 0x4E00, 0x200B,
                                                  0xFEFF, 0xFF10, 0x1D7CE, 0x20000, 0x10FFFF})


def test_every_sampled_code_point_has_its_unicodedata_category():
    categories = general_categories()
    assert categories.shape == (CODE_POINTS,) and not categories.flags.writeable
    assert [categories[cp].decode() for cp in SAMPLE] == [unicodedata.category(chr(cp)) for cp in SAMPLE]


def test_the_shipped_runs_are_this_pythons_categories_at_every_code_point():
    assert category_runs_path().is_file(), f"no runs shipped for Unicode {unicodedata.unidata_version}"
    assert np.array_equal(categories_module._from_runs(category_runs_path()), _from_unicodedata())


def test_written_runs_expand_to_the_categories_and_a_missing_file_falls_back_to_unicodedata(tmp_path, monkeypatch):
    path = tmp_path / "categories.npz"
    runs = write_category_runs(path)
    assert 1000 < runs < 20000  # ~4,000 runs of one category in Unicode 14
    expanded = categories_module._from_runs(path)
    assert not expanded.flags.writeable and np.array_equal(expanded, _from_unicodedata())
    monkeypatch.setattr(categories_module, "category_runs_path", lambda: tmp_path / "no-such-version.npz")
    general_categories.cache_clear()
    try:
        fallback = general_categories()
        assert np.array_equal(fallback, expanded) and not fallback.flags.writeable
    finally:
        general_categories.cache_clear()


@pytest.mark.parametrize("keep_digits", [False, True])
def test_the_hash_normalisation_map_follows_the_categories(keep_digits):
    table = _char_map(keep_digits)
    for cp in SAMPLE:
        category = unicodedata.category(chr(cp))
        if cp == 10:
            expected = 10
        elif any(lo <= cp <= hi for lo, hi in ((0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF),
                                                 (0x20D0, 0x20FF), (0xFE20, 0xFE2F))) or category == "Cf":
            expected = 0xFFFFFFFF  # deleted
        elif category[0] in "PSZ" or category == "Cc":
            expected = ord(" ")
        elif category == "Nd" and not keep_digits:
            expected = ord("0")
        else:
            expected = cp
        assert table[cp] == expected, (hex(cp), category)


def test_minhash_word_characters_are_letters_numbers_and_marks():
    classes = _char_classes()
    assert classes.dtype == np.uint8
    for cp in SAMPLE:
        word = unicodedata.category(chr(cp))[0] in "LNM" and cp != 0
        assert (classes[cp] != 0) == word, hex(cp)
    assert classes[ord("a")] == 1 and classes[0x4E00] == 2 and classes[0x3042] == 2 and classes[ord(" ")] == 0
