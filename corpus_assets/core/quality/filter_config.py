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
``decisions.decide`` reports.  A rule missing from ``defaults`` is disabled.  The file is
validated by pydantic models (:class:`_FilterFile`); every problem is reported as ONE line
naming the file, the field path and the problem, e.g.::

    configs/filters.yaml: languages.zh.gopher_min_words: must be an integer >= 0, got -5

Checks: unknown top-level keys / rules / language codes, wrong types (bool vs number, floats
for counts, strings), fractions outside [0, 1], negative counts or lengths, non-finite
numbers (all reported together, in file order), then, once every value is valid, min > max
pairs (also after merging a language's overrides onto the defaults).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Optional, Union

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    WrapValidator,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

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
_LANG_CODE = re.compile(r"^[a-z]{2,3}(?:[-_][a-z0-9]{2,8})*$")
_TAG = re.compile(r"^[a-z0-9][a-z0-9_.:-]*$")


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
# the file's schema (pydantic); each value type words its own problem


_TYPE_NAMES = {type(None): "null", bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "mapping"}


def _type_name(v: Any) -> str:
    """The YAML type of ``v`` as error lines name it."""
    return _TYPE_NAMES.get(type(v), type(v).__name__)


def _show(v: Any) -> str:
    return f"{_type_name(v)} {v!r}" if isinstance(v, str) else repr(v)


def _worded(problem: Callable[[str, Any], str], *, union: bool = False) -> WrapValidator:
    """Validate with the annotated type; if the value itself is wrong (not something inside it;
    for a ``union``, the members' errors are all about the value), report
    ``problem(pydantic error type, value)`` instead of pydantic's message."""

    def validate(value: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(value)
        except ValidationError as err:
            first = err.errors()[0]
            if first["loc"] and not union:
                raise
            worded = problem(first["type"], value)
            raise PydanticCustomError("filter_config", "{problem}", {"problem": worded}) from None

    return WrapValidator(validate)


def _count_problem(error: str, value: Any) -> str:
    if error == "greater_than_equal":
        return f"must be an integer >= 0, got {value}"
    if _type_name(value) != "float":
        return f"must be an integer >= 0 (or null), got {_type_name(value)} {value!r}"
    if not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    return f"must be an integer >= 0 (a count), got float {value!r}"


def _lang_code(code: str) -> str:
    if not _LANG_CODE.match(code.lower()):
        raise ValueError("not a language code")
    return code.lower()


def _non_blank(version: Union[str, int, float]) -> str:
    if not str(version).strip():
        raise ValueError("blank")
    return str(version)


def _type_problem(what: str) -> Callable[[str, Any], str]:
    return lambda error, value: f"{what}, got {_type_name(value)}"


def _value_problem(what: str) -> Callable[[str, Any], str]:
    return lambda error, value: f"{what}: {_show(value)}"


def _flag_problem(error: str, value: Any) -> str:
    return f"must be true or false (or null), got {_type_name(value)} {value!r}"


def _range_problem(range_problem: str) -> Callable[[str, Any], str]:
    """Wording for a number type: wrong type, not finite, or outside its range."""

    def problem(error: str, value: Any) -> str:
        if error == "finite_number":
            return f"must be a finite number, got {value!r}"
        if error in ("greater_than_equal", "less_than_equal"):
            return f"{range_problem}, got {value}"
        return f"must be a number (or null), got {_type_name(value)} {value!r}"

    return problem


# strict: no coercion ("1" is not 1, 1 is not true); each type words its own problem
_Count = Annotated[int, Strict(), Field(ge=0), _worded(_count_problem)]
_Fraction = Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False),
                      _worded(_range_problem("is a fraction and must be within [0, 1]"))]
_NonNegative = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False), _worded(_range_problem("must be >= 0"))]
_Flag = Annotated[bool, Strict(), _worded(_flag_problem)]
_LangCode = Annotated[str, Strict(), AfterValidator(_lang_code), _worded(_value_problem("not a language code"))]
_Tag = Annotated[str, Strict(), Field(pattern=_TAG.pattern), _worded(_value_problem("not a valid tag name"))]
_Version = Annotated[
    Union[Annotated[str, Strict()], Annotated[int, Strict()], Annotated[float, Strict()]],
    AfterValidator(_non_blank),
    _worded(lambda error, v: f"must be a non-empty string, got {_show(v)}", union=True),
]
_KIND_TYPES = {"count": _Count, "fraction": _Fraction, "ratio": _NonNegative, "length": _NonNegative, "flag": _Flag}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


_REQUIRED = {"version": "required field is missing", "defaults": "required section is missing"}


#: ``defaults``: every rule, optional (null or absent = rule off)
_Rules = create_model(  # type: ignore[call-overload]
    "_Rules", __base__=_Section, **{name: (Optional[_KIND_TYPES[rule.kind]], None) for name, rule in RULES.items()}
)


class _LanguageRules(_Rules):  # type: ignore[misc,valid-type]
    """``languages.<code>``: rule overrides, and the language's own ``min_lang_score``."""

    min_lang_score: Optional[_Fraction] = None


class _Safety(_Section):
    drop_tags: Optional[Annotated[list[_Tag], _worded(_type_problem("must be a list of tag names"))]] = None


_RULES_MAPPING = _type_problem("must be a mapping of rule name -> threshold")


class _FilterFile(_Section):
    version: _Version
    description: Optional[Annotated[str, Strict(), _worded(_type_problem("must be a string"))]] = None
    language_allowlist: Optional[
        Annotated[list[_LangCode], _worded(_type_problem("must be a list of language codes or null"))]
    ] = None
    min_lang_score: Optional[_Fraction] = None
    safety: Optional[Annotated[_Safety, _worded(_type_problem("must be a mapping with 'drop_tags'"))]] = None
    defaults: Annotated[_Rules, _worded(_RULES_MAPPING)]  # type: ignore[valid-type]
    languages: Optional[
        Annotated[
            dict[_LangCode, Optional[Annotated[_LanguageRules, _worded(_RULES_MAPPING)]]],
            _worded(_type_problem("must be a mapping of language code -> overrides")),
        ]
    ] = None

    @model_validator(mode="before")
    @classmethod
    def _null_is_missing(cls, data: Any) -> Any:
        """``version: null`` / ``defaults: null`` are reported like absent ones."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (v is None and k in _REQUIRED)}
        return data


# ---------------------------------------------------------------------------
# pydantic errors -> one line per problem


def _unknown(name: str, known: list[str], what: str) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown {what} '{name}'{hint}"


def _unknown_key(parent: tuple[Any, ...], key: Any) -> str:
    if parent == ():
        return _unknown(str(key), list(_FilterFile.model_fields), "top-level key")
    if parent == ("safety",):
        return _unknown(str(key), ["drop_tags"], "key")
    known = list(RULES) + (["min_lang_score"] if parent[0] == "languages" else [])
    return _unknown(str(key), known, "rule")


def _problem(error: Mapping[str, Any]) -> str:
    loc = error["loc"]
    if error["type"] == "extra_forbidden":
        return _unknown_key(loc[:-1], loc[-1])
    if error["type"] == "missing":
        return _REQUIRED.get(loc[-1], "required")
    if error["type"] in ("model_type", "dict_type") and loc == ():
        return f"must be a mapping, got {_type_name(error['input'])}"
    return error["ctx"]["problem"] if error["type"] == "filter_config" else error["msg"]


def _where(loc: tuple[Any, ...], data: Any) -> tuple[str, tuple[int, ...]]:
    """The field path as the error line shows it (``languages.zh.gopher_min_words``,
    ``safety.drop_tags[1]``) and the field's position in the file."""
    path, order, node = "", [], data
    for key in (k for k in loc if k != "[key]"):
        if isinstance(node, list) and isinstance(key, int):
            path += f"[{key}]"
            order.append(key)
            node = node[key]
        else:
            keys = list(node) if isinstance(node, dict) else []
            path += f".{key}" if path else str(key)
            order.append(keys.index(key) if key in keys else len(keys))
            node = node.get(key) if isinstance(node, dict) else None
    return path or "<root>", tuple(order)


def _report_order(loc: tuple[Any, ...], position: tuple[int, ...]) -> tuple[int, ...]:
    """Unknown top-level keys first, then the sections in schema order, within them file order."""
    fields = list(_FilterFile.model_fields)
    return (fields.index(loc[0]) if loc and loc[0] in fields else -1, *position[1:])


def _problems(err: ValidationError, data: Any) -> list[tuple[str, str]]:
    found = []
    for error in err.errors():
        path, position = _where(error["loc"], data)
        found.append((_report_order(error["loc"], position), path, _problem(error)))
    return [(path, problem) for _, path, problem in sorted(found, key=lambda x: x[0])]


def _min_max_problems(eff: Mapping[str, Any], path: str) -> list[tuple[str, str]]:
    return [
        (f"{path}.{lo}", f"min ({eff[lo]}) > {hi} ({eff[hi]})")
        for lo, hi in _MIN_MAX_PAIRS
        if eff.get(lo) is not None and eff.get(hi) is not None and eff[lo] > eff[hi]
    ]


def _config(file: _FilterFile, source: str) -> FilterConfig:
    overrides: dict[str, dict[str, Any]] = {}
    lang_min_scores: dict[str, float] = {}
    for lang, block in (file.languages or {}).items():
        given = block.model_dump(exclude_unset=True) if block is not None else {}
        score = given.pop("min_lang_score", None)
        if score is not None:
            lang_min_scores[lang] = score
        overrides[lang] = given
    tags = file.safety.drop_tags if file.safety is not None else None
    allowlist = file.language_allowlist
    return FilterConfig(
        version=file.version,  # type: ignore[arg-type]
        defaults=file.defaults.model_dump(),  # type: ignore[attr-defined]
        overrides=overrides,
        language_allowlist=tuple(dict.fromkeys(allowlist)) if allowlist is not None else None,
        min_lang_score=file.min_lang_score if file.min_lang_score is not None else 0.0,
        lang_min_scores=lang_min_scores,
        safety_drop_tags=tuple(dict.fromkeys(tags or ())),
        description=file.description,
        source=source,
    )


def parse_filter_config(data: Any, source: str = "<filter config>") -> FilterConfig:
    """Validate an already-parsed YAML document; raises FilterConfigError naming ``source``."""
    try:
        file = _FilterFile.model_validate(data)
    except ValidationError as err:
        raise FilterConfigError(source, _problems(err, data)) from None
    config = _config(file, source)
    problems = _min_max_problems(config.defaults, "defaults")
    for lang, given in config.overrides.items():
        problems += _min_max_problems({**config.defaults, **given}, f"languages.{lang}")
    if problems:
        raise FilterConfigError(source, problems)
    return config


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
