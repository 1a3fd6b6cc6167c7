"""The `corpus` command: materialize shards, import datasets, build data mixtures, query the warehouse with SQL,
check it, rate documents, run the demo, open the UI."""
from __future__ import annotations

import argparse
import os
import sys

from corpus_assets.cli import check, demo, imports, materialize, mix, query, rate, ui
from corpus_assets.cli.common import CliError

COMMANDS = (materialize, imports, mix, query, check, rate, demo, ui)

__all__ = ["CliError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="corpus", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
        return 0
    except KeyboardInterrupt:
        print("corpus: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line, not a traceback (CORPUS_DEBUG=1 shows it)
        if os.environ.get("CORPUS_DEBUG"):
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"corpus: error: {message}", file=sys.stderr)
        return 1
