"""The code location: every definition under `corpus_assets/defs/` (Dagster's `dg` layout), found by
scanning that folder, so adding an asset, check, job or resource means adding it beside its stage."""
from pathlib import Path

import dagster as dg

defs = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
