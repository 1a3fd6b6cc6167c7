"""`commit_history` numbers each commit by its true version even while another writer commits."""
import threading

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, write_deltalake

from corpus_assets.core.lake.delta_tables import commit_history


def _append_commits(uri: str, count: int) -> None:
    for i in range(count):
        version = DeltaTable(uri).version() + 1  # the only writer: its next commit gets exactly this version
        write_deltalake(uri, pa.table({"x": [i]}), mode="append",
                        commit_properties=CommitProperties(custom_metadata={"written_as": str(version)}))


def test_versions_stay_true_while_another_writer_commits(tmp_path):
    uri = str(tmp_path / "t")
    write_deltalake(uri, pa.table({"x": [0]}))
    writer = threading.Thread(target=_append_commits, args=(uri, 60))
    writer.start()
    listings = []
    while writer.is_alive():
        listings.append(commit_history(uri))
    writer.join()
    listings.append(commit_history(uri))

    assert len(listings) > 5  # the listings overlapped the writer's commits
    mislabelled = [(entry["version"], entry["written_as"]) for history in listings for entry in history
                   if "written_as" in entry and str(entry["version"]) != entry["written_as"]]
    assert mislabelled == []
    assert [entry["version"] for entry in listings[-1]] == list(range(60, -1, -1))
