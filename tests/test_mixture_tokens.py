"""Token counting: the `approx` rule on known strings, its SQL form equal to its Python form on every
text of the bundled sample, and a BPE trained here (nothing downloaded) counting what it encodes."""
import duckdb
import pytest

from corpus_assets.core.mixtures.tokens import HFTokenizer, approx_token_count, approx_tokens_sql, train_bpe_tokenizer


@pytest.mark.parametrize(("text", "tokens"), [
    ("", 0),
    (None, 0),
    ("abcd" * 10, 10),             # 40 ASCII bytes / 4
    ("abcde", 2),                  # rounded up
    ("中文", 2),                    # one per ideograph
    ("日本語 text", 5),             # 3 kanji + ceil(5 bytes / 4)
    ("한국어", 3),                   # Hangul syllables
    ("Привет", 3),                 # 12 bytes of Cyrillic / 4
    ("。", 1),                      # CJK punctuation counts by its 3 bytes
])
def test_approx_rule_on_known_strings(text, tokens):
    assert approx_token_count(text) == tokens
    assert duckdb.sql(f"SELECT {approx_tokens_sql('t')} FROM (SELECT ?::VARCHAR AS t)", params=[text]).fetchone()[0] \
        == tokens


def test_approx_in_sql_equals_approx_in_python_on_the_sample(sample_frames):
    crawled, synthetic = sample_frames
    texts = crawled["text"].to_list() + synthetic["text"].to_list()
    con = duckdb.connect()
    con.register("texts", crawled.vstack(synthetic).select("text").to_arrow())
    in_sql = [n for (n,) in con.sql(f"SELECT {approx_tokens_sql('text')} FROM texts").fetchall()]
    assert in_sql == [approx_token_count(text) for text in texts]
    assert sum(in_sql) > 100_000


def test_a_trained_bpe_counts_what_it_encodes(sample_frames, tmp_path):
    texts = sample_frames[0]["text"].to_list()
    tokenizer = HFTokenizer(train_bpe_tokenizer(texts, 1500, tmp_path / "bpe.json"))
    assert tokenizer.vocab_size == 1500 and tokenizer.eos_id == 0
    counts = tokenizer.count(texts[:30])
    assert counts == [len(ids) for ids in tokenizer.encode(texts[:30])]
    assert all(count > 0 for count in counts)
    assert tokenizer.tokenizer.decode(tokenizer.encode([texts[0]])[0]) == texts[0]
