"""The stack classifier and py-spy parsing of benchmarks/profile_end_to_end.py."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import profile_end_to_end as profile  # noqa: E402

SITE = "/venv/lib/python3.11/site-packages"
ROOT = ["_run_module_as_main (<frozen runpy>:198)", "run_partition (/repo/corpus_assets/runner.py:70)",
        f"execute_job ({SITE}/dagster/_core/execution/api.py:10)"]


def test_classify_charges_the_innermost_project_frame_within_its_step():
    extraction = ROOT + ["documents (/repo/corpus_assets/defs/documents/assets.py:40)",
                         "replace_partition (/repo/corpus_assets/core/delta_tables.py:44)",
                         f"write_deltalake ({SITE}/deltalake/writer/writer.py:1)",
                         "iter_shard_documents (/repo/corpus_assets/core/documents.py:150)",
                         "record_to_row (/repo/corpus_assets/core/documents.py:100)",
                         "extract_main_text (/repo/corpus_assets/core/extract.py:50)"]
    assert profile.classify(extraction) == "main-text extraction (resiliparse)"
    masking = ROOT + ["corpus (/repo/corpus_assets/defs/corpus/assets.py:50)",
                      "corpus_frame (/repo/corpus_assets/core/stages.py:40)",
                      "_detect (/repo/corpus_assets/core/pii.py:600)"]
    assert profile.classify(masking) == "PII: masking in corpus"
    counts = ROOT + ["signals (/repo/corpus_assets/defs/signals/assets.py:50)",
                     "signals_frame (/repo/corpus_assets/core/stages.py:22)",
                     "mask_pii_column (/repo/corpus_assets/core/pii.py:760)"]
    assert profile.classify(counts) == "PII: counts in signals"
    storage = ROOT + [f"SqliteEventLogStorage.store_event ({SITE}/dagster/_core/storage/event_log/sqlite.py:1)",
                      f"Connection.execute ({SITE}/sqlalchemy/engine/base.py:1)"]
    assert profile.classify(storage) == "Dagster: instance and run/event storage (SQLite)"


def test_classify_charges_an_import_to_the_first_third_party_package():
    stack = ROOT + ["_check (/repo/corpus_assets/defs/checks.py:40)",
                    "validate_table (/repo/corpus_assets/core/expectations.py:850)",
                    "_find_and_load (<frozen importlib._bootstrap>:1176)",
                    f"<module> ({SITE}/great_expectations/__init__.py:1)",
                    "_find_and_load (<frozen importlib._bootstrap>:1176)",
                    f"<module> ({SITE}/pandas/__init__.py:1)"]
    assert profile.classify(stack) == "imports: great_expectations"
    assert profile.group_of(profile.classify(stack)) == "process start-up: imports"
    assert profile.classify([]) == "interpreter start-up and shutdown (no Python frame)"


def test_parse_raw_takes_the_innermost_process_and_the_thread_id(tmp_path):
    raw = tmp_path / "py-spy.raw"
    raw.write_text('process 10:"python -m corpus_assets.cli";process 11:"python -c from x import y; y()";'
                   "thread (12): MainThread;f (/a.py:1);g (/b.py:2) 7\n"
                   'process 10:"python -m corpus_assets.cli";thread (10): MainThread;h (/c.py:3) 2\n')
    samples = profile.parse_raw(raw)
    assert samples[(11, 12)] == {("f (/a.py:1)", "g (/b.py:2)"): 7}
    assert samples[(10, 10)] == {("h (/c.py:3)",): 2}
