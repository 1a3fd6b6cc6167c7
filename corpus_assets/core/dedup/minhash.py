"""Vectorised MinHash signatures and LSH band keys for fuzzy deduplication.

Pipeline (all NumPy, batched over many documents at once)
---------------------------------------------------------
1. **Truncate** each text to its first ``max_chars`` characters (default
   100 000, ~15-20k words): two documents that agree on their first 100k
   characters are treated as near-duplicates whatever follows.  This bounds
   time and memory per document (a 10 MB "text" costs the same as a 100 kB one).
2. **Normalise** (NFKC, ``str.lower()``) the whole batch in one call, joined by
   ``\\x00`` separators, and view it as a ``uint32`` code-point array.
3. **Tokenise** with a per-code-point class table: word characters are Unicode
   letters, digits and marks (``L*``, ``N*``, ``M*``); everything else
   (spaces, punctuation, symbols) separates tokens, so punctuation / spacing /
   case changes do not change the shingles.

   * *Spaced languages*: a token is a maximal run of word characters; shingles
     are word ``ngram``-grams (default 5, as FineWeb / datatrove).
   * *Unspaced scripts* (zh / ja / th / lo / km / my, see ``CHAR_NGRAM_LANGS``):
     every word character is a token (whitespace and punctuation dropped);
     shingles are character ``char_ngram``-grams (default 5).  Char mode is
     used when ``lang`` is one of those codes **or** when at least
     ``unspaced_auto_fraction`` (0.5) of the word characters are Han / kana /
     Thai / Lao / Khmer / Myanmar (guards against a wrong language id).  Korean
     is written with spaces and uses word shingles.
4. **Hash** every token with a polynomial hash over its code points (computed for
   all tokens at once from prefix sums, mod 2**64) and a murmur3 ``fmix64``
   finaliser; a shingle hash is a polynomial combination of its n token hashes,
   finalised and reduced to 32 bits.
5. **Permute**: ``num_perm`` universal hash functions
   ``h_i(x) = ((a_i * x + b_i) mod 2**64) >> 32`` (Dietzfelbinger's
   multiply-add-shift scheme, strongly universal for 32-bit keys - the
   ``(a*x+b) mod p`` family with p = 2**64 and the high half kept) applied to
   every shingle hash in one NumPy pass per permutation over the whole batch,
   then ``np.minimum.reduceat`` per document.  Signatures are ``uint32[num_perm]``.
6. **Band keys**: the signature is split into ``bands`` bands of ``rows`` values;
   each band is folded, together with its band index, into one 64-bit key
   (``fmix64`` cascade), exposed as a **signed** int64 (Delta Lake has no
   unsigned types; Polars ``Int64`` / Delta ``long`` / DuckDB ``BIGINT``).  Two docs are LSH candidates when they share any band
   key.  ``MinHasher``'s default is 14 x 8 = 112 (FineWeb's setting): P(candidate) =
   1 - (1 - J**8)**14, ~50% at J=0.72, 5% at J=0.5, 21% at J=0.6, 92% at J=0.8.
   The pipeline (``defs/dedup/settings.py``) uses 28 x 4 = 112, a permissive first
   stage whose candidates are verified by the Jaccard estimated from the signatures:

   ======  =======  =======
   J       14 x 8   28 x 4
   ======  =======  =======
   0.3     0.001    0.204
   0.4     0.009    0.516
   0.5     0.053    0.836
   0.6     0.211    0.979
   0.65    0.365    0.996
   0.7     0.565    1.000
   0.8     0.924    1.000
   ======  =======  =======

Degenerate input
----------------
* ``empty``: no word character at all (``""``, whitespace, pure punctuation);
* ``too_short``: fewer tokens than the n-gram size (no complete shingle).

Both get **no signature and no band keys**, so they can never join (let alone
form a giant) cluster; exact dedup (``dedup_text.text_hash``) still applies.

Stability
---------
Everything is deterministic and independent of the process, platform and NumPy
version: the permutation parameters come from a splitmix64 stream seeded by
``seed`` (not from ``numpy.random``), all hashes are explicit integer arithmetic.
Only a change of Unicode database (new Python) could move a few rare code points
between classes.  ``MinHasher.config_id`` names the settings + algorithm version
(+ Unicode version): store it next to the band index and re-hash when it changes.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import polars as pl

from corpus_assets.core.text.categories import general_categories
from corpus_assets.core.text.nfkc import nfkc

try:  # the quality-signal tokeniser's notion of unspaced languages (zh/wuu/yue/lzh/gan/ja)
    from corpus_assets.core.text.words import UNSPACED_LANGS as _WORDS_UNSPACED
except Exception:  # pragma: no cover - words.py is optional for this module
    _WORDS_UNSPACED = frozenset({"zh", "wuu", "yue", "lzh", "gan", "ja"})

__all__ = [
    "ALGO_VERSION",
    "CHAR_NGRAM_LANGS",
    "MinHasher",
    "MinHashTables",
    "SignatureBatch",
    "signature",
    "band_keys",
    "estimate_jaccard",
    "minhash_batch",
    "minhash_docs",
    "minhash_tables",
    "signatures_from_binary",
]

ALGO_VERSION = 1
CHAR_NGRAM_LANGS: frozenset[str] = frozenset(_WORDS_UNSPACED) | {"zh", "ja", "th", "lo", "km", "my"}

_U64 = np.uint64
_MASK64 = (1 << 64) - 1
_FM1 = _U64(0xFF51AFD7ED558CCD)
_FM2 = _U64(0xC4CEB9FE1A85EC53)
_S33 = _U64(33)
_S32 = _U64(32)
_TOK_BASE = 0x100000001B3  # odd polynomial base for code points (FNV prime)
_TOK_BASE_INV = pow(_TOK_BASE, -1, 1 << 64)
_LEN_K = _U64(0x9E3779B97F4A7C15)
_SHINGLE_BASE = _U64(0xD6E8FEB86659FD93)
_BAND_K0 = _U64(0x2545F4914F6CDD1D)
_BAND_K1 = _U64(0x9FB21C651E98DF25)
_BAND_MUL = _U64(0xBF58476D1CE4E5B9)
_SMALL_BROADCAST = 1 << 21  # elements: below this, permute with one 2-D broadcast
_NOT_OK = np.uint32(0xFFFFFFFF)


def _fmix64(x: np.ndarray) -> np.ndarray:
    """murmur3 64-bit finaliser (a bijection), vectorised; returns a new array."""
    x = x ^ (x >> _S33)
    x *= _FM1
    x ^= x >> _S33
    x *= _FM2
    x ^= x >> _S33
    return x


def _splitmix64(seed: int):
    state = seed & _MASK64
    while True:
        state = (state + 0x9E3779B97F4A7C15) & _MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        yield z ^ (z >> 31)


# Han (+ extensions, compatibility, iteration marks), kana, Thai, Lao, Myanmar, Khmer.
_UNSPACED_RANGES = (
    (0x3005, 0x3007), (0x3021, 0x3029), (0x3038, 0x303B), (0x3040, 0x30FF), (0x31F0, 0x31FF),
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFF66, 0xFF9F),
    (0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x20000, 0x323AF),
)


@lru_cache(maxsize=1)
def _char_classes() -> np.ndarray:
    """uint8 per code point: 0 separator, 1 word char, 2 word char of an unspaced script."""
    major = general_categories().astype("S1")
    cls = ((major == b"L") | (major == b"N") | (major == b"M")).astype(np.uint8)
    for lo, hi in _UNSPACED_RANGES:
        seg = cls[lo : hi + 1]
        seg[seg == 1] = 2
    cls[0] = 0
    return cls


_POW_CACHE: dict[str, np.ndarray] = {}


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(B**i, B**-i) mod 2**64 for i < n (cached, grown geometrically)."""
    p = _POW_CACHE.get("pow")
    if p is None or p.size < n:
        size = max(n, 2 * (0 if p is None else p.size), 1 << 16)
        p = np.empty(size, dtype=_U64)
        q = np.empty(size, dtype=_U64)
        p[0] = q[0] = 1
        p[1:] = _TOK_BASE
        q[1:] = _TOK_BASE_INV
        np.cumprod(p, out=p)
        np.cumprod(q, out=q)
        _POW_CACHE["pow"], _POW_CACHE["inv"] = p, q
    return _POW_CACHE["pow"], _POW_CACHE["inv"]


def _norm_lang(lang: str | None) -> str:
    if not lang:
        return ""
    lg = lang.strip().lower().replace("_", "-")
    if lg.startswith("--label--"):
        lg = lg[9:]
    return lg


def _is_char_lang(lang: str | None) -> bool:
    lg = _norm_lang(lang)
    return bool(lg) and (lg in CHAR_NGRAM_LANGS or lg.split("-", 1)[0] in CHAR_NGRAM_LANGS)


@dataclass
class SignatureBatch:
    """Output of ``MinHasher.compute`` (row i = input text i)."""

    sigs: np.ndarray  # (n, num_perm) uint32; rows of docs without shingles are all 0xFFFFFFFF
    n_shingles: np.ndarray  # (n,) int64
    n_tokens: np.ndarray  # (n,) int64
    char_mode: np.ndarray  # (n,) bool


class MinHasher:
    """MinHash + LSH banding with fixed, documented parameters (see module docstring).

    ``MinHasher(num_perm=112, bands=14, rows=8, ngram=5, seed=1)`` is FineWeb's
    configuration.  Instances are cheap, immutable and picklable.
    """

    def __init__(
        self,
        num_perm: int = 112,
        bands: int = 14,
        rows: int = 8,
        ngram: int = 5,
        seed: int = 1,
        *,
        char_ngram: int = 5,
        max_chars: int = 100_000,
        unspaced_auto_fraction: float = 0.5,
        batch_chars: int = 1 << 20,
    ) -> None:
        if bands * rows > num_perm:
            raise ValueError(f"bands*rows ({bands}*{rows}) exceeds num_perm ({num_perm})")
        if min(num_perm, bands, rows, ngram, char_ngram, max_chars) < 1:
            raise ValueError("all sizes must be >= 1")
        self.num_perm = num_perm
        self.bands = bands
        self.rows = rows
        self.ngram = ngram
        self.char_ngram = char_ngram
        self.seed = seed
        self.max_chars = max_chars
        self.unspaced_auto_fraction = unspaced_auto_fraction
        self.batch_chars = batch_chars
        gen = _splitmix64(seed)
        self._a = np.array([next(gen) | 1 for _ in range(num_perm)], dtype=_U64)
        self._b = np.array([next(gen) for _ in range(num_perm)], dtype=_U64)

    # ------------------------------------------------------------------ info
    @property
    def threshold(self) -> float:
        """Jaccard similarity at which P(candidate) ~ 1/2: (1/bands)**(1/rows)."""
        return (1.0 / self.bands) ** (1.0 / self.rows)

    @property
    def config_id(self) -> str:
        """Identifies everything that determines signatures / band keys."""
        return (
            f"minhash-v{ALGO_VERSION}-p{self.num_perm}-b{self.bands}x{self.rows}-w{self.ngram}"
            f"-c{self.char_ngram}-s{self.seed}-m{self.max_chars}-u{unicodedata.unidata_version}"
        )

    def candidate_probability(self, jaccard: float) -> float:
        """P(two docs with this Jaccard share >= 1 band key) = 1-(1-J**rows)**bands."""
        return 1.0 - (1.0 - jaccard**self.rows) ** self.bands

    def __repr__(self) -> str:
        return f"MinHasher({self.config_id})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MinHasher) and other.config_id == self.config_id

    def __hash__(self) -> int:
        return hash(self.config_id)

    # ------------------------------------------------------------------ core
    def _prepare(self, texts: Iterable[str | None]) -> list[str]:
        m = self.max_chars
        out = []
        for t in texts:
            if not t:
                out.append("")
                continue
            if len(t) > m:
                t = t[:m]
            if "\x00" in t:
                t = t.replace("\x00", " ")
            out.append(t)
        return out

    def _shingles(self, texts: list[str], char_flag: np.ndarray):
        """Shingle hashes of one batch: (x uint64 < 2**32, doc index per shingle, n_tokens, char_mode)."""
        nd = len(texts)
        s = "\x00".join([nfkc(t) for t in texts]).lower()
        cps = np.frombuffer(s.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        L = cps.size
        cls = _char_classes()[cps]
        seps = np.flatnonzero(cps == 0)  # nd - 1 document separators
        is_word = cls != 0
        uns = cls == 2
        if uns.any():
            doc_of = np.zeros(L, dtype=np.int64)
            doc_of[seps] = 1
            np.cumsum(doc_of, out=doc_of)
            n_word = np.bincount(doc_of[is_word], minlength=nd)
            n_uns = np.bincount(doc_of[uns], minlength=nd)
            char_mode = char_flag | ((n_uns > 0) & (n_uns >= self.unspaced_auto_fraction * n_word))
        else:
            char_mode = char_flag.copy()
        if char_mode.any():
            if not uns.any():
                doc_of = np.zeros(L, dtype=np.int64)
                doc_of[seps] = 1
                np.cumsum(doc_of, out=doc_of)
            cm = char_mode[doc_of]
            prev_w = np.empty(L, dtype=bool)
            next_w = np.empty(L, dtype=bool)
            if L:
                prev_w[0] = False
                prev_w[1:] = is_word[:-1]
                next_w[-1] = False
                next_w[:-1] = is_word[1:]
            starts = np.flatnonzero(is_word & (cm | ~prev_w))
            ends = np.flatnonzero(is_word & (cm | ~next_w)) + 1
        else:
            d = np.diff(is_word.view(np.int8), prepend=np.int8(0), append=np.int8(0))
            starts = np.flatnonzero(d == 1)
            ends = np.flatnonzero(d == -1)
        pw, pinv = _powers(L + 1)
        g = np.empty(L + 1, dtype=_U64)
        g[0] = 0
        np.cumsum(cps.astype(_U64) * pinv[:L], out=g[1:])
        tok = pw[ends - 1] * (g[ends] - g[starts])
        tok += (ends - starts).astype(_U64) * _LEN_K
        tok = _fmix64(tok)
        tok_doc = np.searchsorted(seps, starts)  # separators before the token = its doc index
        n_tokens = np.bincount(tok_doc, minlength=nd)
        T = tok.size

        parts_x, parts_d = [], []
        sizes = {self.ngram} if not char_mode.any() else ({self.char_ngram} if char_mode.all() else {self.ngram, self.char_ngram})
        for n in sorted(sizes):
            if T < n:
                continue
            w = T - n + 1
            acc = tok[:w].copy()
            for k in range(1, n):
                acc *= _SHINGLE_BASE
                acc += tok[k : k + w]
            first_doc = tok_doc[:w]
            valid = first_doc == tok_doc[n - 1 : n - 1 + w]
            if len(sizes) > 1:
                mode_for_n = char_mode[first_doc] if n == self.char_ngram else ~char_mode[first_doc]
                valid &= mode_for_n
            parts_x.append(_fmix64(acc[valid]) >> _S32)
            parts_d.append(first_doc[valid])
        if not parts_x:
            return np.empty(0, _U64), np.empty(0, np.int64), n_tokens, char_mode
        if len(parts_x) == 1:
            return parts_x[0], parts_d[0], n_tokens, char_mode
        x = np.concatenate(parts_x)
        dd = np.concatenate(parts_d)
        order = np.argsort(dd, kind="stable")
        return x[order], dd[order], n_tokens, char_mode

    def _permute_min(self, x: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """min_i over each doc's shingles of h_i(x); returns (n_docs, num_perm) uint32."""
        P = self.num_perm
        out = np.empty((offsets.size, P), dtype=np.uint32)
        if offsets.size == 0:
            return out
        if x.size * P <= _SMALL_BROADCAST:
            v = x[:, None] * self._a[None, :]
            v += self._b[None, :]
            out[:] = np.minimum.reduceat(v, offsets, axis=0) >> _S32
            return out
        tmp = np.empty_like(x)
        for i in range(P):
            np.multiply(x, self._a[i], out=tmp)
            tmp += self._b[i]
            out[:, i] = np.minimum.reduceat(tmp, offsets) >> _S32
        return out

    def _batch(self, texts: list[str], langs: Sequence[str | None] | None) -> SignatureBatch:
        nd = len(texts)
        char_flag = np.zeros(nd, dtype=bool) if langs is None else np.fromiter(
            (_is_char_lang(lg) for lg in langs), dtype=bool, count=nd
        )
        x, sh_doc, n_tokens, char_mode = self._shingles(texts, char_flag)
        n_sh = np.bincount(sh_doc, minlength=nd)
        ok = np.flatnonzero(n_sh > 0)
        offsets = np.zeros(ok.size, dtype=np.int64)
        if ok.size > 1:
            np.cumsum(n_sh[ok][:-1], out=offsets[1:])
        sigs = np.full((nd, self.num_perm), _NOT_OK, dtype=np.uint32)
        sigs[ok] = self._permute_min(x, offsets)
        return SignatureBatch(sigs, n_sh, n_tokens, char_mode)

    def compute(self, texts: Sequence[str | None], langs: Sequence[str | None] | None = None) -> SignatureBatch:
        """Signatures for many texts, processed in batches of ~``batch_chars`` characters."""
        texts = self._prepare(texts)
        if langs is not None:
            langs = list(langs)
            if len(langs) != len(texts):
                raise ValueError("texts and langs differ in length")
        results: list[SignatureBatch] = []
        start, chars = 0, 0
        for i, t in enumerate(texts):
            chars += len(t) + 1
            if chars >= self.batch_chars:
                results.append(self._batch(texts[start : i + 1], None if langs is None else langs[start : i + 1]))
                start, chars = i + 1, 0
        if start < len(texts) or not results:
            results.append(self._batch(texts[start:], None if langs is None else langs[start:]))
        if len(results) == 1:
            return results[0]
        return SignatureBatch(
            np.concatenate([r.sigs for r in results]),
            np.concatenate([r.n_shingles for r in results]),
            np.concatenate([r.n_tokens for r in results]),
            np.concatenate([r.char_mode for r in results]),
        )

    # ------------------------------------------------------------------ public
    def signature(self, text: str | None, lang: str | None = None) -> np.ndarray | None:
        """``uint32[num_perm]`` MinHash signature, or None for empty / too-short text."""
        r = self._batch(self._prepare([text]), [lang])
        return r.sigs[0].copy() if r.n_shingles[0] > 0 else None

    def status(self, text: str | None, lang: str | None = None) -> str:
        """'ok', 'too_short' (fewer tokens than the n-gram size) or 'empty' (no word character)."""
        r = self._batch(self._prepare([text]), [lang])
        return _status(int(r.n_shingles[0]), int(r.n_tokens[0]))

    def shingle_hashes(self, text: str | None, lang: str | None = None) -> np.ndarray:
        """Sorted unique 32-bit shingle hashes (for exact-Jaccard checks / debugging)."""
        texts = self._prepare([text])
        x, _, _, _ = self._shingles(texts, np.array([_is_char_lang(lang)]))
        return np.unique(x.astype(np.uint32))

    def band_keys_array(self, sigs: np.ndarray) -> np.ndarray:
        """(n, num_perm) signatures -> (n, bands) ``int64`` band keys (band index folded in)."""
        sigs = np.asarray(sigs, dtype=np.uint32)
        if sigs.ndim == 1:
            sigs = sigs[None, :]
        n = sigs.shape[0]
        m = sigs[:, : self.bands * self.rows].reshape(n, self.bands, self.rows).astype(_U64)
        if self.rows % 2:
            m = np.concatenate([m, np.zeros((n, self.bands, 1), dtype=_U64)], axis=2)
        pairs = m[:, :, 0::2] | (m[:, :, 1::2] << _S32)
        k = _fmix64(np.arange(self.bands, dtype=_U64) * _BAND_K1 + _BAND_K0)
        k = np.broadcast_to(k, (n, self.bands)).copy()
        for j in range(pairs.shape[2]):
            k *= _BAND_MUL
            k ^= pairs[:, :, j]
            k = _fmix64(k)
        return k.view(np.int64)

    def band_keys(self, sig: np.ndarray | None) -> list[int]:
        """One signed 64-bit key per band (band index folded in); [] for a missing signature."""
        if sig is None:
            return []
        return [int(v) for v in self.band_keys_array(np.asarray(sig)[None, :])[0]]


def _status(n_shingles: int, n_tokens: int) -> str:
    if n_shingles > 0:
        return "ok"
    return "too_short" if n_tokens > 0 else "empty"


_DEFAULT: MinHasher | None = None


def _default() -> MinHasher:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = MinHasher()
    return _DEFAULT


def signature(text: str | None, lang: str | None = None, hasher: MinHasher | None = None) -> np.ndarray | None:
    """``(hasher or MinHasher()).signature(text, lang)``."""
    return (hasher or _default()).signature(text, lang)


def band_keys(sig: np.ndarray | None, hasher: MinHasher | None = None) -> list[int]:
    """``(hasher or MinHasher()).band_keys(sig)``."""
    return (hasher or _default()).band_keys(sig)


def estimate_jaccard(sig_a: np.ndarray | None, sig_b: np.ndarray | None) -> float:
    """Fraction of equal signature positions (0.0 if either signature is missing)."""
    if sig_a is None or sig_b is None:
        return 0.0
    a = np.asarray(sig_a)
    b = np.asarray(sig_b)
    if a.shape != b.shape:
        raise ValueError(f"signature shapes differ: {a.shape} vs {b.shape}")
    return float(np.count_nonzero(a == b)) / a.size if a.size else 0.0


def signatures_from_binary(values: Sequence[bytes | None] | pl.Series, num_perm: int = 112) -> np.ndarray:
    """Binary ``signature`` column (from ``minhash_docs``) -> (n, num_perm) uint32 (nulls: all 0xFFFFFFFF)."""
    vals = values.to_list() if isinstance(values, pl.Series) else list(values)
    null = b"\xff" * (4 * num_perm)
    return np.frombuffer(b"".join(v if v is not None else null for v in vals), dtype="<u4").reshape(len(vals), num_perm)


# ---------------------------------------------------------------------- Polars batch API


@dataclass
class MinHashTables:
    """Output of ``minhash_tables``.

    ``band_keys``: ``doc_id, band: Int16, band_key: Int64`` - one row per doc per
    band, only for docs with status 'ok' (this is the band index to store).
    ``docs``: ``doc_id, minhash_status: String ('ok'|'too_short'|'empty'),
    n_shingles: Int32, signature: Binary`` (``4*num_perm`` bytes, little-endian
    uint32; null unless 'ok') - one row per input row.
    """

    band_keys: pl.DataFrame
    docs: pl.DataFrame


def minhash_tables(
    df: pl.DataFrame,
    hasher: MinHasher | None = None,
    *,
    doc_col: str = "doc_id",
    text_col: str = "text",
    lang_col: str | None = "lang",
    with_signature: bool = True,
) -> MinHashTables:
    """MinHash a ``df[doc_id, text, lang]`` (``lang`` optional) into band keys + per-doc status."""
    h = hasher or _default()
    texts = df[text_col].to_list()
    langs = df[lang_col].to_list() if lang_col and lang_col in df.columns else None
    r = h.compute(texts, langs)
    ok = np.flatnonzero(r.n_shingles > 0)
    keys = h.band_keys_array(r.sigs[ok]) if ok.size else np.empty((0, h.bands), dtype=np.int64)
    doc_ids = df[doc_col]
    band_df = pl.DataFrame(
        {
            doc_col: doc_ids.gather(np.repeat(ok, h.bands)),
            "band": pl.Series(np.tile(np.arange(h.bands, dtype=np.int16), ok.size), dtype=pl.Int16),
            "band_key": pl.Series(keys.reshape(-1), dtype=pl.Int64),
        }
    )
    status = np.where(r.n_shingles > 0, "ok", np.where(r.n_tokens > 0, "too_short", "empty"))
    cols = {
        doc_col: doc_ids,
        "minhash_status": pl.Series(status.tolist(), dtype=pl.String),
        "n_shingles": pl.Series(np.minimum(r.n_shingles, 2**31 - 1).astype(np.int32), dtype=pl.Int32),
    }
    if with_signature:
        okmask = r.n_shingles > 0
        cols["signature"] = pl.Series(
            [r.sigs[i].astype("<u4").tobytes() if okmask[i] else None for i in range(len(texts))], dtype=pl.Binary
        )
    return MinHashTables(band_keys=band_df, docs=pl.DataFrame(cols))


def minhash_batch(df: pl.DataFrame, hasher: MinHasher | None = None, **kw) -> pl.DataFrame:
    """``pl.DataFrame[doc_id, band: Int16, band_key: Int64]`` (long format) for ``df[doc_id, text, lang]``.

    All column types round-trip through Delta Lake unchanged (no unsigned types).

    Docs that are empty / too short get no rows; use ``minhash_tables`` /
    ``minhash_docs`` for their status.
    """
    return minhash_tables(df, hasher, with_signature=False, **kw).band_keys


def minhash_docs(df: pl.DataFrame, hasher: MinHasher | None = None, **kw) -> pl.DataFrame:
    """``pl.DataFrame[doc_id, minhash_status, n_shingles, signature]`` for ``df[doc_id, text, lang]``."""
    return minhash_tables(df, hasher, **kw).docs
