"""Dagster's standard table metadata, from one source: the columns and types a table's GX suite
expects (its `schema` check group), so the UI, the checks and the code agree."""
from typing import Mapping

import dagster as dg

from corpus_assets.core.checks.suites import suite_spec


def column_schema(table: str) -> dg.TableSchema:
    """The columns the table's suite requires, with the types it checks (when it checks one)."""
    schema = [e["kwargs"] for e in suite_spec(table)["expectations"] if (e.get("meta") or {}).get("check") == "schema"]
    columns: list[str] = next((kwargs["column_set"] for kwargs in schema if "column_set" in kwargs), [])
    types = {kwargs["column"]: kwargs.get("type_") or "|".join(kwargs.get("type_list") or [])[:40]
             for kwargs in schema if "column" in kwargs}
    return dg.TableSchema(columns=[dg.TableColumn(name, types.get(name, "")) for name in columns])


def table_definition_metadata(table: str) -> dict:
    """Definition metadata of an asset stored as the Delta table `table` of the warehouse."""
    return {"dagster/table_name": table, "dagster/column_schema": column_schema(table)}


def counts_markdown(counts: Mapping[str, int], key: str, value: str = "documents") -> dg.MetadataValue:
    """A count per key (drop reason, language, ...) as a Markdown table, largest first."""
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    lines = [f"| {key} | {value} |", "|---|---:|"] + [f"| {name} | {count:,} |" for name, count in rows]
    return dg.MetadataValue.md("\n".join(lines) if rows else "_(none)_")
