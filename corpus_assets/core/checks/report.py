"""Check results for people: a plain-text table and a static HTML report (+ the same data as JSON)."""
from __future__ import annotations

import html
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Sequence

from corpus_assets.core.checks.results import SuiteResult, jsonable, observed_text, shorten


def _partition_label(partition: Mapping[str, str] | None) -> str:
    return "/".join(str(v) for v in partition.values()) if partition else "(all)"


def format_results(results: Sequence[tuple[str, Mapping[str, str] | None, SuiteResult]], *,
                   details: bool = True) -> str:
    """Plain-text summary (one line per table/partition) and, with ``details``, the failing checks."""
    lines = []
    head = f"{'table':<15} {'partition':<28} {'rows':>7} {'checks':>6} {'failed':>6} {'skipped':>7} {'secs':>6}  status"
    lines.append(head)
    lines.append("-" * len(head))
    for table, partition, result in results:
        st = result.statistics
        lines.append(f"{table:<15} {_partition_label(partition):<28} {result.row_count or 0:>7} {st['evaluated']:>6} "
                     f"{st['failed'] + st['errors']:>6} {st['skipped']:>7} {result.seconds:>6.2f}  "
                     f"{'ok' if result.success else 'FAILED'}")
    if details:
        for table, partition, result in results:
            for row in result.to_rows(only_failures=True):
                lines.append(f"  {table} {_partition_label(partition)}: {row['check']} {row['status']}: "
                             f"{row['observed']} {('unexpected ' + row['unexpected']) if row['unexpected'] else ''}"
                             f"{(' ids: ' + row['sample_ids']) if row['sample_ids'] else ''}".rstrip())
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top;font-size:.9em}
th{background:#f2f2f2}.passed{color:#19692c}.failed,.error{color:#b00020;font-weight:600}.skipped{color:#777}
tr.bad{background:#fff0f0}code{font-size:.85em}details{margin:.3em 0}summary{cursor:pointer}
"""


def write_report(results: Sequence[tuple[str, Mapping[str, str] | None, SuiteResult]],
                 out_dir: str | os.PathLike[str], name: str = "expectations") -> Path:
    """Write ``<name>.html`` (and the same data as ``<name>.json``) into ``out_dir`` (e.g.
    ``<warehouse>/_reports``); failing batches and failing checks come first. Returns the HTML path."""
    results = sorted(results, key=lambda item: item[2].success)  # stable: failures first, else in order
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    esc = html.escape
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    total_failed = sum(not r.success for _, _, r in results)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Expectations</title><style>{_CSS}</style>"
             f"</head><body><h1>Data quality: expectation suites</h1>"
             f"<p>{len(results)} batches validated at {esc(now)}; "
             f"<span class='{'failed' if total_failed else 'passed'}'>{total_failed} failing</span>.</p>",
             "<table><tr><th>table</th><th>partition</th><th>rows</th><th>checks</th><th>failed</th>"
             "<th>skipped</th><th>seconds</th><th>status</th></tr>"]
    for i, (table, partition, result) in enumerate(results):
        st = result.statistics
        status = "passed" if result.success else "failed"
        parts.append(f"<tr class='{'' if result.success else 'bad'}'><td><a href='#b{i}'>{esc(table)}</a></td>"
                     f"<td>{esc(_partition_label(partition))}</td><td>{result.row_count or 0}</td>"
                     f"<td>{st['evaluated']}</td><td>{st['failed'] + st['errors']}</td><td>{st['skipped']}</td>"
                     f"<td>{result.seconds:.2f}</td><td class='{status}'>{status}</td></tr>")
    parts.append("</table>")
    for i, (table, partition, result) in enumerate(results):
        parts.append(f"<h2 id='b{i}'>{esc(table)} &middot; {esc(_partition_label(partition))}</h2>"
                     f"<details{' open' if not result.success else ''}><summary>{len(result.outcomes)} checks, "
                     f"{len(result.failures)} failing</summary><table><tr><th>check</th><th>status</th>"
                     f"<th>observed</th><th>unexpected</th><th>failing ids (sample)</th><th>description</th></tr>")
        for o in sorted(result.outcomes, key=lambda outcome: outcome.success):
            observed = o.error or o.skipped or observed_text(o)
            unexpected = "" if o.unexpected_count is None else f"{o.unexpected_count} / {o.element_count}"
            args = json.dumps(jsonable(o.kwargs), ensure_ascii=False)
            parts.append(f"<tr class='{'' if o.success else 'bad'}'><td>{esc(o.check or '')}<br><code>{esc(o.name)}</code>"
                         f"<br><small>{esc(shorten(args, 300))}</small></td><td class='{o.status}'>{o.status}</td>"
                         f"<td>{esc(str(shorten(observed, 300)))}</td><td>{esc(unexpected)}</td>"
                         f"<td><code>{esc(', '.join(map(str, o.unexpected_ids)))}</code></td>"
                         f"<td>{esc(o.description or '')}</td></tr>")
        parts.append("</table></details>")
    parts.append("</body></html>")
    path = out / f"{name}.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    (out / f"{name}.json").write_text(json.dumps(
        [{"table": t, "partition": p and dict(p), **r.to_metadata()} for t, p, r in results],
        indent=1, ensure_ascii=False), encoding="utf-8")
    return path
