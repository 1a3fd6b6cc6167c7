"""Token counting for mixtures: the `approx` rule (in SQL and in Python) and Hugging Face tokenizers.

`approx` (rule id `approx-v1`) counts one token per CJK character (Han, kana, Hangul) plus one token per 4
UTF-8 bytes of everything else, rounded up:

    n_tokens = n_cjk + ceil((utf8_bytes - 3 * n_cjk) / 4)  =  ceil((utf8_bytes + n_cjk) / 4)

Why: byte-level BPE vocabularies of current LLMs average about 4 bytes per token on English and other
Latin-script text (the "4 characters per token" rule of thumb), about 2 characters per token on 2-byte
scripts such as Cyrillic, Greek or Arabic (which the byte rule gives without a special case), and
roughly one token per ideograph or syllable on Chinese, Japanese and Korean (0.6-1.5 depending on the
vocabulary). Only BMP characters count as CJK, all of which are 3 bytes in UTF-8, which is what lets
the rule fold into `ceil((bytes + n_cjk) / 4)`: one regex pass per text. It is an estimate for budgeting; use a tokenizer.json when the
exact count of a particular model's tokenizer matters.
"""
from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Iterable

APPROX = "approx"
APPROX_RULE_ID = "approx-v1"
BYTES_PER_TOKEN = 4
EOS_CANDIDATES = ("<|endoftext|>", "</s>", "<eos>")

_CJK_RANGES = [  # all in the BMP: 3 bytes each in UTF-8
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK unified ideographs extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
]
_CJK_PYTHON = re.compile("[" + "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in _CJK_RANGES) + "]")
_CJK_RE2 = "[" + "".join(f"\\x{{{a:04X}}}-\\x{{{b:04X}}}" for a, b in _CJK_RANGES) + "]"


def approx_token_count(text: str | None) -> int:
    """`approx-v1` tokens of one text (the same number `approx_tokens_sql` computes in DuckDB)."""
    if not text:
        return 0
    n_cjk = len(_CJK_PYTHON.findall(text))
    return -(-(len(text.encode("utf-8")) + n_cjk) // BYTES_PER_TOKEN)


def approx_tokens_sql(column: str = "text") -> str:
    """A DuckDB expression for `approx-v1` tokens of a text column; pure-ASCII texts skip the regex."""
    n_cjk = f"(length({column}) - length(regexp_replace({column}, '{_CJK_RE2}+', '', 'g')))"  # runs: 3x faster
    return (f"CASE WHEN {column} IS NULL THEN 0::BIGINT "
            f"WHEN strlen({column}) = length({column}) THEN (strlen({column}) + 3) // 4 "
            f"ELSE (strlen({column}) + {n_cjk} + 3) // 4 END")


class HFTokenizer:
    """A Hugging Face `tokenizers` tokenizer.json (no special tokens are added when encoding)."""

    def __init__(self, path: str | Path):
        from tokenizers import Tokenizer

        self.path = Path(path)
        self.tokenizer = Tokenizer.from_file(str(self.path))

    @cached_property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size(with_added_tokens=True)

    @cached_property
    def eos_id(self) -> int | None:
        """The id of an end-of-text token when the vocabulary has one (appended after each exported document)."""
        for token in EOS_CANDIDATES:
            token_id = self.tokenizer.token_to_id(token)
            if token_id is not None:
                return token_id
        return None

    def encode(self, texts: list[str]) -> list[list[int]]:
        return [encoding.ids for encoding in self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)]

    def count(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self.encode(texts)]


def train_bpe_tokenizer(texts: Iterable[str], vocab_size: int, path: str | Path) -> Path:
    """Train a byte-level BPE tokenizer on `texts` and save it as a tokenizer.json (for demos and tests:
    nothing is downloaded); `<|endoftext|>` is its end-of-text token."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(texts, trainer=trainer)
    path = Path(path)
    tokenizer.save(str(path))
    return path
