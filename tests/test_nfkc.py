"""NFKC line by line equals NFKC of the whole text."""
import unicodedata

from corpus_assets.core.text.nfkc import nfkc


def test_nfkc_line_by_line_is_nfkc_of_the_whole_text():
    # every character NFKC changes or that combines, at both ends of a line
    odd = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000
           and (unicodedata.combining(chr(c)) or unicodedata.normalize("NFKC", chr(c)) != chr(c))]
    text = "\n".join(f"{a}a\u0301{a}" for a in odd) + "\nplain ascii\n\n"
    assert nfkc(text) == unicodedata.normalize("NFKC", text)
    assert nfkc("café\u00a0au lait\n\uff21\n") == unicodedata.normalize("NFKC", "café\u00a0au lait\n\uff21\n")
    assert nfkc("") == "" and nfkc("ascii only") == "ascii only"
