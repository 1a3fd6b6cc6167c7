"""What the rating loop costs: `corpus rate export`, `corpus rate import` (and a re-import), and one rating on the
page (HTTP request -> validation -> Delta append), on a copy of a materialized warehouse.

    .venv/bin/python benchmarks/bench_rating.py WAREHOUSE [--ratings 30] [--out benchmarks/results/rating.txt]

WAREHOUSE: e.g. the one `corpus demo` writes (./warehouse); it is copied, never changed.
"""
from __future__ import annotations

import argparse
import io
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from starlette.testclient import TestClient  # noqa: E402

from corpus_assets.cli import main as corpus  # noqa: E402
from corpus_assets.cli.rate import _select  # noqa: E402
from corpus_assets.cli.rate_page import RatingSession, rating_app  # noqa: E402
from corpus_assets.core.package_data import starter_ratings  # noqa: E402


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    with redirect_stdout(io.StringIO()):
        assert corpus(argv) == 0, argv
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--ratings", type=int, default=30, help="ratings sent to the page")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "rating.txt")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "warehouse"
        shutil.copytree(args.warehouse, warehouse, ignore=shutil.ignore_patterns("_dagster", "_reports", "quality_ratings"))
        w = ["--warehouse", str(warehouse)]
        lines = [f"warehouse: copy of {args.warehouse}"]
        lines.append(f"rate export --n 100 (stratified): {timed(['rate', 'export', '--n', '100', '--out', f'{tmp}/s.csv', *w]):.2f} s")
        lines.append(f"rate import of the starter set (392 ratings, new table): "
                     f"{timed(['rate', 'import', str(starter_ratings()), *w]):.2f} s")
        lines.append(f"rate import of the same file again (adds nothing): "
                     f"{timed(['rate', 'import', str(starter_ratings()), *w]):.2f} s")
        lines.append(f"rate export --n 100 leaving out 392 rated: "
                     f"{timed(['rate', 'export', '--n', '100', '--out', f'{tmp}/t.csv', *w]):.2f} s")
        session = RatingSession(str(warehouse), args.ratings, "stratified", 0, _select)
        client = TestClient(rating_app(session))
        started = time.perf_counter()
        state = client.get("/api/next", params={"rater": "bench"}).json()
        first = time.perf_counter() - started
        seconds = []
        while state["doc"]:
            started = time.perf_counter()
            response = client.post("/api/rate", json={"rater": "bench", "doc_id": state["doc"]["doc_id"],
                                                      "rating": len(seconds) % 6, "note": ""})
            seconds.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
            state = response.json()
        lines.append(f"page: first document for a new rater (selection + text): {first:.2f} s")
        lines.append(f"page: one rating (POST /api/rate -> Delta append -> next document), {len(seconds)} ratings: "
                     f"median {statistics.median(seconds) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms")
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
