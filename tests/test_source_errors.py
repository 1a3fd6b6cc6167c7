"""Reading a source over HTTP (a scripted server on loopback): permanent errors fail at once in one
line, transient ones are retried by the one policy, a cut download resumes where it stopped; remote
sources need explicit crawls and get 100 files per shard."""
import gzip
import time

import dagster as dg
import polars as pl
import pytest

from corpus_assets.cli import main
from corpus_assets.core.ingest.ccsource import CrawlSource, SourceError
from corpus_assets.core.ingest.documents import DocumentSettings, ShardStats, iter_shard_documents
from corpus_assets.core.ingest.errors import SourceNotFound
from corpus_assets.core.ingest.langid import LanguageIdentifier
from corpus_assets.core.ingest.retry import RetryPolicy
from corpus_assets.core.ingest.shards import Shard, plan_source_shards
from corpus_assets.defs.documents.assets import documents
from corpus_assets.defs.lake.warehouse import Warehouse
from corpus_assets.defs.sources.cc_source import CommonCrawlSource
from corpus_assets.defs.sources.discovery import new_warc_files_sensor
from corpus_assets.defs.sources.partitions import warc_shards
from http_fixtures import closed_port, serve
from warc_fixtures import copy_sample

CRAWL = "CC-SAMPLE-2026-07"
LISTING = f"/crawl-data/{CRAWL}/warc.paths.gz"
FAST = RetryPolicy(base_delay=0.05, max_delay=2.0, total_seconds=20.0)


@pytest.fixture
def server(tmp_path):
    state, stop = serve(copy_sample(tmp_path / "src", crawls=[CRAWL]))
    yield state
    stop()


def first_warc(server) -> str:
    return "/" + CrawlSource(str(server.root)).list_files(CRAWL)[0]


def fails_fast(call) -> str:
    """The one-line message of the `SourceError` that `call` raises, within 5 s."""
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        call()
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"took {elapsed:.1f}s to fail"
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("status, cause", [("403", "HTTP 403 Forbidden"), ("401", "HTTP 401 Unauthorized"),
                                           ("404", "HTTP 404 Not Found")])
def test_permanent_http_statuses_fail_at_once(server, status, cause):
    warc = first_warc(server)
    server.script(warc, status)
    message = fails_fast(lambda: CrawlSource(server.url, FAST).open(warc.lstrip("/")))
    assert message == f"GET {server.url}{warc}: {cause}"
    assert len(server.requests_for(warc)) == 1  # no retry


def test_unknown_crawl_names_the_known_ones(server):
    message = fails_fast(lambda: CrawlSource(server.url, FAST).list_files("CC-NOPE"))
    assert message == (f"unknown crawl 'CC-NOPE': no warc.paths.gz at {server.url}/crawl-data/CC-NOPE/warc.paths.gz; "
                       f"known crawls: {CRAWL}")
    assert len(server.requests_for("/crawl-data/CC-NOPE/warc.paths.gz")) == 1


def test_nothing_listening_fails_at_once():
    port = closed_port()
    message = fails_fast(lambda: CrawlSource(f"http://127.0.0.1:{port}/none", FAST).list_files("X"))
    assert message == (f"GET http://127.0.0.1:{port}/none/crawl-data/X/warc.paths.gz: "
                       f"connection refused (nothing listening at 127.0.0.1:{port})")


def test_missing_local_file_fails_at_once(tmp_path):
    source = CrawlSource(str(copy_sample(tmp_path / "src", crawls=[CRAWL])))
    [first, _] = source.list_files(CRAWL)
    (tmp_path / "src" / first).unlink()
    with pytest.raises(SourceNotFound, match=f"^missing file {tmp_path / 'src' / first}$"):
        source.open(first)


@pytest.mark.parametrize("failure", ["500", "503", "reset"])
def test_a_transient_failure_succeeds_after_one_retry(server, failure):
    server.script(LISTING, failure)
    files = CrawlSource(server.url, FAST).list_files(CRAWL)
    assert files == CrawlSource(str(server.root)).list_files(CRAWL)
    assert len(server.requests_for(LISTING)) == 2


def test_429_waits_as_long_as_retry_after_says(server):
    waits = []
    server.script(LISTING, "429:1")
    CrawlSource(server.url, RetryPolicy(base_delay=0.05, sleep=waits.append)).list_files(CRAWL)
    assert waits == [1.0] and len(server.requests_for(LISTING)) == 2


def test_transient_failures_give_up_within_the_policy(server):
    server.script(LISTING, "503", "503", "503", "503")
    message = fails_fast(lambda: CrawlSource(server.url, RetryPolicy(max_attempts=3, base_delay=0.05))
                         .list_files(CRAWL))
    assert message.startswith(f"GET {server.url}{LISTING}: HTTP 503 Service Unavailable (gave up after 3 attempt(s) in ")
    assert len(server.requests_for(LISTING)) == 3


def test_a_host_that_answered_before_and_then_refuses_is_retried(tmp_path):
    state, stop = serve(copy_sample(tmp_path / "src", crawls=[CRAWL]))
    source = CrawlSource(state.url, RetryPolicy(max_attempts=2, base_delay=0.05))
    source.list_files(CRAWL)
    stop()  # the server goes away after answering: maybe a restart, worth a retry
    message = fails_fast(lambda: source.list_files(CRAWL))
    assert "connection refused" in message and "gave up after 2 attempt(s)" in message


def test_a_download_cut_mid_file_resumes_at_the_byte_it_reached(server):
    warc = first_warc(server)
    server.script(warc, "cut")
    with CrawlSource(server.url, FAST).open(warc.lstrip("/")) as stream:
        data = b"".join(iter(lambda: stream.read(64 << 10), b""))  # chunks, as the WARC reader reads
    whole = (server.root / warc.lstrip("/")).read_bytes()
    assert data == whole
    first, second = server.requests_for(warc)
    assert first.range is None and second.range == f"bytes={len(whole) // 2}-"


def test_documents_over_http_survive_a_5xx_and_a_cut_download(server, tmp_path):
    """The documents asset through Dagster, reading the sample over HTTP while the server fails twice."""
    warc = first_warc(server)
    server.script(warc, "500", "cut")
    key = f"{CRAWL}/00000"
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(warc_shards.name, [key])
    result = dg.materialize([documents], partition_key=key, instance=instance, resources={
        "cc_source": CommonCrawlSource(uri=server.url, crawls=[CRAWL], retry_seconds=30),
        "warehouse": Warehouse(uri=str(tmp_path / "wh"))})
    assert result.success
    local = CrawlSource(str(server.root))
    expected = pl.concat(pl.from_arrow(batch) for batch in iter_shard_documents(
        local, Shard(CRAWL, 0, 0), local.list_files(CRAWL)[:1], DocumentSettings(), ShardStats(), LanguageIdentifier()))
    columns = ["doc_id", "warc_record_offset", "warc_record_length", "text"]
    written = pl.read_delta(str(tmp_path / "wh" / "documents")).select(columns).sort("doc_id")
    assert written.equals(expected.select(columns).sort("doc_id")) and written.height > 50
    assert [r.range is not None for r in server.requests_for(warc)] == [False, False, True]


def test_remote_sources_need_crawls_and_default_to_100_files_per_shard(server, tmp_path):
    with pytest.raises(SourceError, match="^a remote source needs an explicit list of crawls"):
        plan_source_shards(CrawlSource(server.url, FAST), [], None, None)
    listing = server.root / "crawl-data" / "CC-BIG" / "warc.paths.gz"
    listing.parent.mkdir(parents=True)
    listing.write_bytes(gzip.compress("".join(f"crawl-data/CC-BIG/f{i:05d}.warc.gz\n" for i in range(250)).encode()))
    remote = plan_source_shards(CrawlSource(server.url, FAST), ["CC-BIG"], None, None)
    assert [s.key for s in remote] == ["CC-BIG/00000-00099", "CC-BIG/00100-00199", "CC-BIG/00200-00249"]
    assert len(plan_source_shards(CrawlSource(str(server.root)), ["CC-BIG"], None, None)) == 250  # local: 1 file
    assert [s.key for s in plan_source_shards(CrawlSource(server.url, FAST), ["CC-BIG"], 200, 220)] == \
        ["CC-BIG/00000-00199", "CC-BIG/00200-00219"]  # --shard-size and --max-files for trials
    with dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(),
                                 resources={"cc_source": CommonCrawlSource(uri=server.url)}) as context:
        with pytest.raises(SourceError, match="explicit list of crawls"):
            new_warc_files_sensor(context)


def test_cli_fails_fast_in_one_line(tmp_path, capsys, caplog):
    port = closed_port()
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    for args, expected in [
        (["--source", f"http://127.0.0.1:{port}/none", "--crawl", "X"],
         f"connection refused (nothing listening at 127.0.0.1:{port})"),
        (["--source", f"http://127.0.0.1:{port}/none"], "a remote source needs an explicit list of crawls"),
        (["--warehouse", str(afile)], f"{afile} is a file, not a folder"),
    ]:
        warehouse = [] if "--warehouse" in args else ["--warehouse", str(tmp_path / "wh")]
        started = time.monotonic()
        caplog.clear()
        assert main(["materialize", *args, *warehouse]) == 1
        assert not [r for r in caplog.records if "retry" in r.getMessage()]  # a refused connection is not retried
        assert time.monotonic() - started < 14  # the retries alone would wait 1 + 2 + 4 + 8 s (start-up on a loaded box: ~5)
        err = capsys.readouterr().err.strip()
        assert err.startswith("corpus: error:") and expected in err and "\n" not in err
