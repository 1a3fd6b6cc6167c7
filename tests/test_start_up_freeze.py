import json
import subprocess
import sys

SCRIPT = """
import gc, json, sys, weakref
from corpus_assets.cli.runner import freeze_start_up_objects

before = gc.get_freeze_count()
freeze_start_up_objects("ingest_shard")
frozen = gc.get_freeze_count()
freeze_start_up_objects("ingest_shard")
again = gc.get_freeze_count()

class Node:
    pass

a, b = Node(), Node()
a.other, b.other = b, a  # a cycle made after the freeze: only the collector frees it
ref = weakref.ref(a)
del a, b
gc.collect()
print(json.dumps({"before": before, "frozen": frozen, "again": again, "cycle_freed": ref() is None,
                  "definitions_loaded": "corpus_assets.definitions" in sys.modules}))
"""


def test_a_process_freezes_its_start_up_objects_once_and_still_collects_what_it_makes_after():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["before"] == 0 and state["definitions_loaded"]
    assert state["frozen"] > 50_000  # Dagster's, Polars', the definitions' objects
    assert state["again"] == state["frozen"]
    assert state["cycle_freed"]
