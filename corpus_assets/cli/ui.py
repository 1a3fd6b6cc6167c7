"""`corpus ui`: the Dagster UI and daemon on the warehouse's own instance."""
from __future__ import annotations

import os
import sys

from corpus_assets.cli.common import mixtures_folder, source_uri, warehouse_root


def add_parser(sub) -> None:
    p = sub.add_parser("ui", help="start the Dagster UI and daemon for a warehouse")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--warehouse")
    p.add_argument("--source", help="crawl source for the sensor and schedule (default $CORPUS_SOURCE or the sample)")
    p.add_argument("--mixtures", metavar="DIR", help="mixture specs folder (default $CORPUS_MIXTURES or the packaged examples)")
    p.set_defaults(func=run_ui)


def run_ui(args) -> None:
    import subprocess

    from corpus_assets.cli.instance import prepare_dagster_home

    warehouse = warehouse_root(args.warehouse)
    home = prepare_dagster_home(warehouse)
    env = {**os.environ, "CORPUS_WAREHOUSE": warehouse, "CORPUS_SOURCE": source_uri(args.source),
           "CORPUS_MIXTURES": mixtures_folder(args.mixtures), "DAGSTER_HOME": str(home)}
    command = [sys.executable, "-m", "dagster", "dev", "-m", "corpus_assets.definitions", "-h", args.host,
               "-p", str(args.port)]
    print(f"warehouse {warehouse}\ndagster home {home}\n" + " ".join(command), flush=True)
    raise SystemExit(subprocess.call(command, env=env))
