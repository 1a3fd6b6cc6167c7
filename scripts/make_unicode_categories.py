"""Write the Unicode categories of this Python's `unicodedata` as runs into the package
(`corpus_assets/data/unicode/categories-<version>.npz`, read by `core/text/categories.py`).

    python scripts/make_unicode_categories.py
"""
import unicodedata

from corpus_assets.core.text.categories import category_runs_path, write_category_runs

if __name__ == "__main__":
    path = category_runs_path()
    print(f"Unicode {unicodedata.unidata_version}: {write_category_runs(path)} runs -> {path}")
