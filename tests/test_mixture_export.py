"""Exporting mixtures: byte-identical twice, loadable by Hugging Face `datasets`, token ids that decode
back to the corpus text, and refusing a corpus version other than the build's."""
import csv
import gzip
import io
import json

import numpy as np
import polars as pl
import pytest
from mixture_fixtures import MIXTURES

from corpus_assets.core.mixtures.build import build_mixture
from corpus_assets.core.mixtures.export import ExportError, export_mixture
from corpus_assets.core.mixtures.inputs import open_corpus
from corpus_assets.core.mixtures.spec import load_specs, parse_spec
from corpus_assets.core.mixtures.tokens import HFTokenizer, train_bpe_tokenizer

SPEC = load_specs(MIXTURES)["web-curriculum-v1"]


@pytest.fixture(scope="module")
def built(mixture_corpus):
    corpus = open_corpus(mixture_corpus)
    return build_mixture(SPEC, corpus), corpus


def files_of(folder) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_exporting_twice_gives_identical_bytes_in_shards_of_n_rows(built, tmp_path, fmt):
    result, corpus = built
    first = export_mixture(result.rows, corpus, SPEC, result.manifest, tmp_path / "a", fmt, shard_rows=25)
    export_mixture(result.rows, corpus, SPEC, result.manifest, tmp_path / "a", fmt, shard_rows=25)  # replaces it
    export_mixture(result.rows, open_corpus(corpus.uri), SPEC, result.manifest, tmp_path / "b", fmt, shard_rows=25)
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")
    assert first.rows == result.rows.height
    index = json.loads((tmp_path / "a" / "index.json").read_text())
    for stage_index, stage in enumerate(SPEC.plan()):
        sizes = [f["rows"] for f in index["files"] if f["stage"] == stage.name]
        expected = result.rows.filter(pl.col("stage") == stage.name).height
        assert sum(sizes) == expected and all(size == 25 for size in sizes[:-1]) and 0 < sizes[-1] <= 25
        assert all(f["path"].startswith(f"{stage_index:02d}-{stage.name}/shard-") for f in index["files"]
                   if f["stage"] == stage.name)
    assert json.loads((tmp_path / "a" / "manifest.json").read_text()) == result.manifest


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_hugging_face_datasets_loads_the_export(built, sample_frames, tmp_path, monkeypatch, fmt):
    from datasets import load_dataset

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    result, corpus = built
    export_mixture(result.rows, corpus, SPEC, result.manifest, tmp_path / "out", fmt, shard_rows=40)
    builder = "json" if fmt == "jsonl" else fmt
    dataset = load_dataset(builder, data_files=str(tmp_path / "out" / "*" / f"*.{fmt}"), split="train",
                           cache_dir=str(tmp_path / "hf-cache"))
    assert dataset.num_rows == result.rows.height
    assert {"doc_id", "copy", "source", "stage", "synthetic", "n_tokens", "lang", "url", "text"} <= set(dataset.column_names)
    texts = dict(zip(sample_frames[0]["doc_id"], sample_frames[0]["text"]))
    for row in dataset.select(range(0, dataset.num_rows, 7)):
        assert row["text"] == texts[row["doc_id"]]
    exported = pl.DataFrame({"stage": dataset["stage"], "doc_id": dataset["doc_id"], "copy": dataset["copy"]})
    assert exported.sort("stage", "doc_id", "copy").equals(
        result.rows.select("stage", "doc_id", pl.col("copy").cast(pl.Int64)).sort("stage", "doc_id", "copy"))
    # shuffled within a stage, stages in curriculum order
    major = exported.filter(pl.col("stage") == "major")["doc_id"].to_list()
    assert major != result.rows.filter(pl.col("stage") == "major")["doc_id"].to_list()
    assert exported["stage"].to_list() == sorted(exported["stage"].to_list(), key=["major", "low-resource"].index)


@pytest.mark.slow  # trains a BPE tokenizer and encodes the corpus
def test_tokens_export_round_trips_to_the_corpus_text(mixture_corpus, sample_frames, tmp_path):
    train_bpe_tokenizer(sample_frames[0]["text"].to_list(), 3000, tmp_path / "bpe.json")
    data = {"name": "tokens", "seed": 3, "token_budget": 30000, "tokenizer": "bpe.json", "sources": [
        {"name": "web_de", "where": "lang = 'de'", "weight": 0.7},
        {"name": "web_zh", "where": "lang = 'zh'", "weight": 0.3}]}
    spec = parse_spec(data, origin="tokens.yaml", base_dir=tmp_path)
    corpus = open_corpus(mixture_corpus)
    result = build_mixture(spec, corpus)
    export_mixture(result.rows, corpus, spec, result.manifest, tmp_path / "t1", "tokens", shard_rows=10)
    export_mixture(result.rows, corpus, spec, result.manifest, tmp_path / "t2", "tokens", shard_rows=10)
    assert files_of(tmp_path / "t1") == files_of(tmp_path / "t2")
    index = json.loads((tmp_path / "t1" / "index.json").read_text())
    tokenizer = HFTokenizer(tmp_path / "bpe.json")
    assert index["dtype"] == "uint16" and index["eos_id"] == tokenizer.eos_id == 0
    texts = dict(zip(sample_frames[0]["doc_id"], sample_frames[0]["text"]))
    seen, total_tokens = [], 0
    for entry in index["files"]:
        ids = np.memmap(tmp_path / "t1" / entry["path"], dtype=np.uint16, mode="r")
        with gzip.open(tmp_path / "t1" / entry["index"], "rt", encoding="utf-8") as handle:
            documents = list(csv.DictReader(io.StringIO(handle.read())))
        assert len(ids) == entry["tokens"] == int(documents[-1]["end"]) and int(documents[0]["start"]) == 0
        for document in documents:
            start, end = int(document["start"]), int(document["end"])
            assert ids[end - 1] == tokenizer.eos_id
            decoded = tokenizer.tokenizer.decode(ids[start:end - 1].tolist(), skip_special_tokens=False)
            assert decoded == texts[document["id"]]
            seen.append((document["id"], int(document["copy"])))
        total_tokens += entry["tokens"]
    assert sorted(seen) == sorted(result.rows.select("doc_id", "copy").iter_rows())
    assert total_tokens == result.rows["n_tokens"].sum() + result.rows.height  # counts + one end-of-text each


def test_export_refuses_another_corpus_version_and_a_foreign_folder(built, tmp_path):
    result, corpus = built
    manifest = {**result.manifest, "inputs": {"corpus": {"delta_version": corpus.version + 1}}}
    with pytest.raises(ExportError, match=f"built on corpus version {corpus.version + 1}"):
        export_mixture(result.rows, corpus, SPEC, manifest, tmp_path / "x", "parquet")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ExportError, match="is not empty and holds no earlier export"):
        export_mixture(result.rows, corpus, SPEC, result.manifest, tmp_path / "mine", "parquet")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    with pytest.raises(ExportError, match="the tokens format needs a tokenizer.json"):
        export_mixture(result.rows, corpus, SPEC, result.manifest, tmp_path / "y", "tokens")
