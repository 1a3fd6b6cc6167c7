"""Validation of a mixture source's `where`: one read-only boolean predicate over `corpus`.

The text is parsed by DuckDB itself (`json_serialize_sql` of `SELECT * FROM corpus WHERE (<where>)`), so
what is checked is what DuckDB would run, not a regex's guess. Accepted: column references, constants,
comparisons, AND/OR/NOT, IN lists, BETWEEN, CASE, CAST, IS [NOT] NULL, LIKE/GLOB and an allowlist of
deterministic scalar functions. Rejected: anything that changes the statement around the predicate
(`;`, a second statement, UNION, parentheses that do not balance inside the predicate itself), subqueries (the only
place a table function such as `read_csv` or `glob` can appear), prepared parameters, and functions
outside the allowlist, such as `getenv`, `current_setting`, `random()` or `now()` (the last two would
make the same spec select different rows on the same input).
"""
from __future__ import annotations

import json

import duckdb

WRAPPER = "SELECT * FROM corpus WHERE (\n{where}\n)"  # newlines: a trailing `--` comment cannot eat the `)`

ALLOWED_FUNCTIONS = frozenset({
    # operators DuckDB parses as functions
    "~~", "!~~", "~~*", "!~~*", "~~~", "!~~~", "^@", "+", "-", "*", "/", "//", "%", "||", "row",
    # strings
    "lower", "upper", "lcase", "ucase", "length", "len", "strlen", "octet_length", "trim", "ltrim", "rtrim",
    "substring", "substr", "left", "right", "concat", "replace", "contains", "starts_with", "ends_with",
    "prefix", "suffix", "instr", "position", "strpos", "split_part", "regexp_matches", "regexp_full_match",
    "regexp_extract", "md5", "like_escape", "ilike_escape",
    # numbers, nulls, lists, dates
    "abs", "round", "floor", "ceil", "ceiling", "least", "greatest", "coalesce", "ifnull", "nullif",
    "list_contains", "array_contains", "list_has_any", "list_has_all", "array_length",
    "date_part", "date_trunc", "year", "month", "day", "epoch",
})
ALLOWED_EXPRESSION_CLASSES = frozenset({
    "COLUMN_REF", "CONSTANT", "COMPARISON", "CONJUNCTION", "OPERATOR", "BETWEEN", "CASE", "CAST", "FUNCTION",
})


class PredicateError(ValueError):
    """A `where` is not a single read-only predicate; the message says why in one line."""


def validate_where(where: str) -> None:
    """Raise PredicateError unless `where` is one boolean-shaped, read-only predicate over corpus columns."""
    if not where.strip():
        raise PredicateError("must not be empty")
    _check_parentheses(where)
    query = WRAPPER.format(where=where)
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise PredicateError(f"not a valid SQL predicate ({_first_line(exc)})") from exc
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise PredicateError("must be a single predicate, not SQL statements")
    tree = json.loads(duckdb.connect().execute("SELECT json_serialize_sql(?)", [query]).fetchone()[0])  # type: ignore[index]
    if tree.get("error"):
        raise PredicateError(f"not a valid SQL predicate ({tree.get('error_message')})")
    node = tree["statements"][0]["node"]
    if not _is_plain_select_from_corpus(node):
        raise PredicateError("must be a predicate only (it changes the query around it)")
    _check_expression(node["where_clause"])


def _check_parentheses(where: str) -> None:
    # `a') OR ('b` parses inside the wrapper but would change meaning inside NOT (...) or CASE WHEN (...)
    depth = 0
    try:
        tokens = duckdb.tokenize(where)
    except duckdb.Error as exc:
        raise PredicateError(f"not a valid SQL predicate ({_first_line(exc)})") from exc
    for position, kind in tokens:
        if kind == duckdb.token_type.operator and where[position] in "()":
            depth += 1 if where[position] == "(" else -1
            if depth < 0:
                raise PredicateError("unbalanced parentheses: a ')' closes more than the predicate opened")
    if depth:
        raise PredicateError("unbalanced parentheses: a '(' is never closed")


def _is_plain_select_from_corpus(node: dict) -> bool:
    source = node.get("from_table") or {}
    select_list = node.get("select_list") or []
    return (node.get("type") == "SELECT_NODE" and not node.get("modifiers") and not node["cte_map"]["map"]
            and len(select_list) == 1 and select_list[0].get("class") == "STAR" and not select_list[0].get("exclude_list")
            and source.get("type") == "BASE_TABLE" and source.get("table_name") == "corpus"
            and not source.get("alias") and not source.get("sample") and not source.get("at_clause")
            and not node.get("group_expressions") and not node.get("having") and not node.get("qualify")
            and not node.get("sample") and node.get("where_clause") is not None)


def _check_expression(node: dict) -> None:
    kind = node.get("class")
    if kind == "SUBQUERY":
        raise PredicateError("subqueries are not allowed (a predicate reads corpus columns only)")
    if kind not in ALLOWED_EXPRESSION_CLASSES:
        raise PredicateError(f"{kind.lower() if kind else 'this'} expressions are not allowed in a predicate")
    if kind == "FUNCTION":
        name = node.get("function_name", "")
        if node.get("schema") or node.get("catalog") or name.lower() not in ALLOWED_FUNCTIONS:
            raise PredicateError(f"function {name}() is not allowed in a predicate")
        if node.get("filter") or node.get("order_bys", {}).get("orders") or node.get("distinct"):
            raise PredicateError(f"aggregate syntax in {name}() is not allowed in a predicate")
    for child in _children(node):
        _check_expression(child)


def _children(node: dict) -> list[dict]:
    found: list[dict] = []
    for key, value in node.items():
        if key in ("value", "cast_type", "order_bys"):  # literals and types, not expressions
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and "class" in item:
                found.append(item)
            elif isinstance(item, dict) and key == "case_checks":
                found.extend(v for v in item.values() if isinstance(v, dict) and "class" in v)
    return found


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]


def as_condition(where: str) -> str:
    """A validated predicate, parenthesised on lines of its own (a trailing `--` comment stays harmless)."""
    return f"(\n{where}\n)"
