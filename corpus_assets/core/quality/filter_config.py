"""Versioned quality-filter configuration (``configs/filters.yaml``): loading, validation, hashing.

Layout of the YAML file::

    version: "2026.03.1"           # required, str (or int)
    description: "..."             # optional, free text (not hashed)
    language_allowlist: [en, de]   # optional; null / absent = every language allowed
    min_lang_score: 0.65           # optional, fraction; default 0 (rule off)
    safety:
      drop_tags: [url_blocklist, adult_words]   # safety tags that drop a doc from the corpus
    defaults:                      # rule name -> threshold (null disables the rule)
      gopher_min_words: 50
      ...
    languages:                     # per-language overrides (lid.176 code -> rules)
      zh:
        gopher_min_mean_word_length: 1
        gopher_min_alpha_word_frac: null     # null switches a rule off for that language
        min_lang_score: 0.5                  # min_lang_score may be overridden per language

Every rule has a name (the key in ``defaults``), which is also the drop reason that
``decisions.decide`` reports.  A rule missing from ``defaults`` is disabled.  Validation is
by hand so every problem is reported as ONE line naming the file, the field path and the
problem, e.g.::

    configs/filters.yaml: languages.zh.gopher_min_words: must be an integer >= 0, got -5

Checks: unknown top-level keys / rules / language codes, wrong types (bool vs number, floats
for counts, strings), fractions outside [0, 1], negative counts or lengths, non-finite
numbers, and min > max pairs (also after merging a language's overrides onto the defaults).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "FilterConfigError",
    "FilterConfig",
    "Rule",
    "RULES",
    "LANG_SCORE_RULE",
    "LANG_ALLOWLIST_RULE",
    "SAFETY_REASON_PREFIX",
    "load_filter_config",
    "parse_filter_config",
    "config_hash",
]

LANG_SCORE_RULE = "lang_score_below_min"
LANG_ALLOWLIST_RULE = "lang_not_allowed"
SAFETY_REASON_PREFIX = "safety:"


class FilterConfigError(ValueError):
    """A filter config is malformed.  ``str(err)`` is one line: ``FILE: FIELD: PROBLEM``."""

    def __init__(self, file: str, problems: list[tuple[str, str]]):
        self.file = file
        self.problems = list(problems)
        self.field, self.problem = self.problems[0]
        msg = f"{file}: {self.field}: {self.problem}"
        if len(self.problems) > 1:
            rest = "; ".join(f"{f}: {p}" for f, p in self.problems[1:])
            msg += f" (and {len(self.problems) - 1} more: {rest})"
        super().__init__(msg)


@dataclass(frozen=True)
class Rule:
    """One keep/drop rule: drop when ``signal <op> threshold``.

    kind: ``fraction`` (float in [0, 1]), ``count`` (int >= 0), ``ratio`` (float >= 0),
    ``length`` (float >= 0) or ``flag`` (bool; drop when the signal is > 0).
    """

    name: str
    signal: str
    op: str  # "lt" | "le" | "gt" | "ge" | "flag"
    kind: str
    description: str


def _r(name: str, signal: str, op: str, kind: str, description: str) -> Rule:
    return Rule(name, signal, op, kind, description)


# Order = the order drop reasons are reported in.
RULES: dict[str, Rule] = {
    r.name: r
    for r in [
        # -- Gopher quality
        _r("gopher_min_words", "gopher_word_count", "lt", "count", "fewer words than this"),
        _r("gopher_max_words", "gopher_word_count", "gt", "count", "more words than this"),
        _r("gopher_min_mean_word_length", "gopher_mean_word_length", "lt", "length", "mean word length below"),
        _r("gopher_max_mean_word_length", "gopher_mean_word_length", "gt", "length", "mean word length above"),
        _r("gopher_max_hash_word_ratio", "gopher_hash_word_ratio", "gt", "ratio", "'#' per token above"),
        _r("gopher_max_ellipsis_word_ratio", "gopher_ellipsis_word_ratio", "gt", "ratio", "ellipses per token above"),
        _r("gopher_max_bullet_line_frac", "gopher_bullet_line_frac", "gt", "fraction", "bullet lines share above"),
        _r("gopher_max_ellipsis_line_frac", "gopher_ellipsis_line_frac", "gt", "fraction", "lines ending in ... above"),
        _r("gopher_min_alpha_word_frac", "gopher_alpha_word_frac", "lt", "fraction", "tokens with a letter below"),
        _r("gopher_min_stop_words", "gopher_stop_word_count", "lt", "count", "fewer stop words than this"),
        # -- Gopher repetition
        _r("gopher_max_dup_line_frac", "gopher_dup_line_frac", "gt", "fraction", "duplicate lines share above"),
        _r("gopher_max_dup_para_frac", "gopher_dup_para_frac", "gt", "fraction", "duplicate paragraphs above"),
        _r("gopher_max_dup_line_char_frac", "gopher_dup_line_char_frac", "gt", "fraction", "dup-line chars above"),
        _r("gopher_max_dup_para_char_frac", "gopher_dup_para_char_frac", "gt", "fraction", "dup-paragraph chars above"),
        *[
            _r(f"gopher_max_top_{n}gram_char_frac", f"gopher_top_{n}gram_char_frac", "gt", "fraction",
               f"chars in the most frequent {n}-gram above")
            for n in (2, 3, 4)
        ],
        *[
            _r(f"gopher_max_dup_{n}gram_char_frac", f"gopher_dup_{n}gram_char_frac", "gt", "fraction",
               f"chars in duplicated {n}-grams above")
            for n in (5, 6, 7, 8, 9, 10)
        ],
        # -- C4
        _r("c4_min_terminal_punct_line_frac", "c4_terminal_punct_line_frac", "lt", "fraction",
           "lines ending in terminal punctuation below"),
        _r("c4_lorem_ipsum", "c4_lorem_ipsum_count", "flag", "flag", "contains 'lorem ipsum'"),
        _r("c4_curly_bracket", "c4_curly_bracket_line_count", "flag", "flag", "a C4 candidate line contains '{'"),
        _r("c4_max_javascript_lines", "c4_javascript_line_count", "gt", "count", "lines mentioning javascript above"),
        _r("c4_max_policy_lines", "c4_policy_line_count", "gt", "count", "cookie/terms/privacy lines above"),
        _r("c4_min_sentences", "c4_sentence_count", "lt", "count", "fewer sentences than this in kept lines"),
        # -- FineWeb (datatrove FineWebQualityFilter comparisons)
        _r("fineweb_line_punct_frac", "fineweb_line_punct_frac", "le", "fraction",
           "drop if share of lines ending in punctuation <= threshold"),
        _r("fineweb_short_line_frac", "fineweb_short_line_frac", "ge", "fraction",
           "drop if share of lines <= 30 chars >= threshold"),
        _r("fineweb_dup_line_char_frac", "fineweb_dup_line_char_frac", "ge", "fraction",
           "drop if chars in duplicated lines >= threshold"),
        _r("fineweb_newline_word_ratio", "fineweb_newline_word_ratio", "gt", "ratio",
           "drop if newlines per token > threshold (list-like page)"),
    ]
}

# (min rule, max rule) pairs that must satisfy min <= max when both are set
_MIN_MAX_PAIRS = [
    ("gopher_min_words", "gopher_max_words"),
    ("gopher_min_mean_word_length", "gopher_max_mean_word_length"),
]
_TOP_LEVEL_KEYS = ("version", "description", "language_allowlist", "min_lang_score", "safety", "defaults", "languages")
_LANG_CODE = re.compile(r"^[a-z]{2,3}(?:[-_][a-z0-9]{2,8})*$")
_TAG = re.compile(r"^[a-z0-9][a-z0-9_.:-]*$")
_MISSING = object()


@dataclass(frozen=True)
class FilterConfig:
    """A validated filter config.  ``defaults`` maps EVERY rule name to a threshold or None."""

    version: str
    defaults: Mapping[str, Any]
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # lang -> {rule: value}
    language_allowlist: tuple[str, ...] | None = None
    min_lang_score: float = 0.0
    lang_min_scores: Mapping[str, float] = field(default_factory=dict)  # per-language min_lang_score
    safety_drop_tags: tuple[str, ...] = ()
    description: str | None = None
    source: str | None = field(default=None, compare=False)

    def __hash__(self) -> int:
        return hash(config_hash(self))

    def thresholds(self, lang: str | None) -> dict[str, Any]:
        """Effective rule thresholds for ``lang`` (overrides merged onto defaults)."""
        eff = dict(self.defaults)
        eff.update(self.overrides.get((lang or "").lower(), {}))
        return eff

    def min_score(self, lang: str | None) -> float:
        return self.lang_min_scores.get((lang or "").lower(), self.min_lang_score)

    def normalized(self) -> dict[str, Any]:
        """Canonical, JSON-able content (what ``config_hash`` hashes)."""
        defaults = dict(self.defaults)
        langs = sorted(
            lg
            for lg in set(self.overrides) | set(self.lang_min_scores)
            if self.thresholds(lg) != defaults or self.min_score(lg) != self.min_lang_score
        )
        return {
            "version": self.version,
            "language_allowlist": sorted(self.language_allowlist) if self.language_allowlist is not None else None,
            "min_lang_score": float(self.min_lang_score),
            "safety_drop_tags": sorted(self.safety_drop_tags),
            "defaults": {k: self.defaults[k] for k in sorted(self.defaults)},
            "languages": {
                lg: {
                    "min_lang_score": float(self.min_score(lg)),
                    "rules": {k: v for k, v in sorted(self.thresholds(lg).items())},
                }
                for lg in langs
            },
        }


def config_hash(config: FilterConfig) -> str:
    """Stable 16-hex-char hash of the normalised config (sha256 of canonical JSON).

    Key order, comments, formatting, ``description``, ``1`` vs ``1.0`` for fractions and
    overrides that repeat the default do not change it; any threshold/list/version change does.
    """
    blob = json.dumps(config.normalized(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------------------
# validation


def _type_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "str"
    if isinstance(v, list):
        return "list"
    if isinstance(v, Mapping):
        return "mapping"
    return type(v).__name__


def _show(v: Any) -> str:
    return f"{_type_name(v)} {v!r}" if isinstance(v, str) else repr(v)


def _check_value(kind: str, value: Any) -> tuple[Any, str | None]:
    """(normalised value, problem or None).  ``value`` is not None here."""
    if kind == "flag":
        if not isinstance(value, bool):
            return None, f"must be true or false (or null), got {_type_name(value)} {value!r}"
        return value, None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        want = "an integer >= 0" if kind == "count" else "a number"
        return None, f"must be {want} (or null), got {_type_name(value)} {value!r}"
    if isinstance(value, float) and not math.isfinite(value):
        return None, f"must be a finite number, got {value!r}"
    if kind == "count":
        if not isinstance(value, int):
            return None, f"must be an integer >= 0 (a count), got float {value!r}"
        if value < 0:
            return None, f"must be an integer >= 0, got {value}"
        return int(value), None
    if kind == "fraction":
        if not 0.0 <= value <= 1.0:
            return None, f"is a fraction and must be within [0, 1], got {value}"
        return float(value), None
    # ratio / length
    if value < 0:
        return None, f"must be >= 0, got {value}"
    return float(value), None


def _unknown(name: str, known: list[str], what: str) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown {what} '{name}'{hint}"


def _check_rules(
    block: Any, path: str, problems: list[tuple[str, str]], allow_min_lang_score: bool
) -> dict[str, Any]:
    """Validate a {rule: value} mapping; returns the normalised values that passed."""
    out: dict[str, Any] = {}
    if not isinstance(block, Mapping):
        problems.append((path, f"must be a mapping of rule name -> threshold, got {_type_name(block)}"))
        return out
    for key, value in block.items():
        fpath = f"{path}.{key}"
        if allow_min_lang_score and key == "min_lang_score":
            continue
        if not isinstance(key, str) or key not in RULES:
            known = list(RULES) + (["min_lang_score"] if allow_min_lang_score else [])
            problems.append((fpath, _unknown(str(key), known, "rule")))
            continue
        if value is None:
            out[key] = None
            continue
        norm, problem = _check_value(RULES[key].kind, value)
        if problem:
            problems.append((fpath, problem))
        else:
            out[key] = norm
    return out


def _check_min_max(eff: Mapping[str, Any], path: str, problems: list[tuple[str, str]]) -> None:
    for lo, hi in _MIN_MAX_PAIRS:
        a, b = eff.get(lo), eff.get(hi)
        if a is not None and b is not None and a > b:
            problems.append((f"{path}.{lo}", f"min ({a}) > {hi} ({b})"))


def _check_fraction(value: Any, fpath: str, problems: list[tuple[str, str]]) -> float | None:
    norm, problem = _check_value("fraction", value)
    if problem:
        problems.append((fpath, problem))
        return None
    return norm


def parse_filter_config(data: Any, source: str = "<filter config>") -> FilterConfig:
    """Validate an already-parsed YAML document; raises FilterConfigError naming ``source``."""
    problems: list[tuple[str, str]] = []
    if not isinstance(data, Mapping):
        raise FilterConfigError(source, [("<root>", f"must be a mapping, got {_type_name(data)}")])

    for key in data:
        if key not in _TOP_LEVEL_KEYS:
            problems.append((str(key), _unknown(str(key), list(_TOP_LEVEL_KEYS), "top-level key")))

    version = data.get("version", _MISSING)
    if version is _MISSING or version is None:
        problems.append(("version", "required field is missing"))
        version = ""
    elif isinstance(version, bool) or not isinstance(version, (str, int, float)) or str(version).strip() == "":
        problems.append(("version", f"must be a non-empty string, got {_show(version)}"))
        version = ""
    version = str(version)

    description = data.get("description")
    if description is not None and not isinstance(description, str):
        problems.append(("description", f"must be a string, got {_type_name(description)}"))
        description = None

    allow = data.get("language_allowlist")
    allowlist: tuple[str, ...] | None = None
    if allow is not None:
        if not isinstance(allow, list):
            problems.append(
                ("language_allowlist", f"must be a list of language codes or null, got {_type_name(allow)}")
            )
        else:
            codes = []
            for i, code in enumerate(allow):
                if not isinstance(code, str) or not _LANG_CODE.match(code.lower()):
                    problems.append((f"language_allowlist[{i}]", f"not a language code: {_show(code)}"))
                else:
                    codes.append(code.lower())
            allowlist = tuple(dict.fromkeys(codes))

    min_lang_score = 0.0
    if data.get("min_lang_score") is not None:
        v = _check_fraction(data["min_lang_score"], "min_lang_score", problems)
        min_lang_score = v if v is not None else 0.0

    drop_tags: tuple[str, ...] = ()
    safety = data.get("safety")
    if safety is not None:
        if not isinstance(safety, Mapping):
            problems.append(("safety", f"must be a mapping with 'drop_tags', got {_type_name(safety)}"))
        else:
            for key in safety:
                if key != "drop_tags":
                    problems.append((f"safety.{key}", _unknown(str(key), ["drop_tags"], "key")))
            tags = safety.get("drop_tags")
            if tags is None:
                tags = []
            if not isinstance(tags, list):
                problems.append(("safety.drop_tags", f"must be a list of tag names, got {_type_name(tags)}"))
            else:
                ok = []
                for i, tag in enumerate(tags):
                    if not isinstance(tag, str) or not _TAG.match(tag):
                        problems.append((f"safety.drop_tags[{i}]", f"not a valid tag name: {_show(tag)}"))
                    else:
                        ok.append(tag)
                drop_tags = tuple(dict.fromkeys(ok))

    defaults_raw = data.get("defaults", _MISSING)
    if defaults_raw is _MISSING or defaults_raw is None:
        problems.append(("defaults", "required section is missing"))
        defaults_raw = {}
    given = _check_rules(defaults_raw, "defaults", problems, allow_min_lang_score=False)
    defaults = {name: given.get(name) for name in RULES}
    _check_min_max(defaults, "defaults", problems)

    overrides: dict[str, dict[str, Any]] = {}
    lang_min_scores: dict[str, float] = {}
    langs = data.get("languages")
    if langs is not None:
        if not isinstance(langs, Mapping):
            problems.append(("languages", f"must be a mapping of language code -> overrides, got {_type_name(langs)}"))
        else:
            for lg, block in langs.items():
                lpath = f"languages.{lg}"
                if not isinstance(lg, str) or not _LANG_CODE.match(lg.lower()):
                    problems.append((lpath, f"not a language code: {_show(lg)}"))
                    continue
                lg_norm = lg.lower()
                if block is None:
                    block = {}
                ov = _check_rules(block, lpath, problems, allow_min_lang_score=True)
                if isinstance(block, Mapping) and block.get("min_lang_score") is not None:
                    v = _check_fraction(block["min_lang_score"], f"{lpath}.min_lang_score", problems)
                    if v is not None:
                        lang_min_scores[lg_norm] = v
                overrides[lg_norm] = ov
                _check_min_max({**defaults, **ov}, lpath, problems)

    if problems:
        raise FilterConfigError(source, problems)
    return FilterConfig(
        version=version,
        defaults=defaults,
        overrides=overrides,
        language_allowlist=allowlist,
        min_lang_score=min_lang_score,
        lang_min_scores=lang_min_scores,
        safety_drop_tags=drop_tags,
        description=description,
        source=source,
    )


def load_filter_config(path: str | Path) -> FilterConfig:
    """Read and validate a filter-config YAML file (errors: FilterConfigError, one line)."""
    p = Path(path)
    src = str(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise FilterConfigError(src, [("<file>", f"cannot read file: {e.strerror or e}")]) from e
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "<yaml>"
        what = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise FilterConfigError(src, [(where, f"invalid YAML: {what}")]) from e
    return parse_filter_config(data, source=src)
