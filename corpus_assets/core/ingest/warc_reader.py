"""Stream WARC / WET records with their provenance, stopping cleanly at damage.

Common Crawl files are gzip members, one per record. We yield each record of interest together with
its compressed offset and length (what CC's index calls offset/length), so any document can be
re-fetched with one range request. A damaged file (empty, not a WARC file, truncated, corrupt) yields
the records before the damage and then raises `WarcDamaged`, so the caller can log it and keep what was
read. A failure of the stream itself (the network) is not damage: it passes unchanged.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import BinaryIO, Iterator

from fastwarc.warc import ArchiveIterator, WarcRecordType


class WarcDamaged(Exception):
    """The file is truncated or corrupt at `offset`; records before it were read."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


@dataclass
class RawRecord:
    record_id: str  # for WET records: the id of the WARC response it was converted from
    url: str
    fetch_time: datetime | None
    offset: int
    length: int
    http_status: int | None  # None for WET conversion records
    content_type: str  # HTTP Content-Type header (WARC) or record Content-Type (WET)
    payload: bytes


class _CountingReader:
    """Wraps a stream to know how many compressed bytes were consumed (the last record's length), the
    first bytes (to name what a non-WARC file is) and any error of the stream itself."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        self.consumed = 0
        self.head = b""
        self.error: BaseException | None = None

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._stream.read(size)
        except BaseException as exc:
            self.error = exc
            raise
        if len(self.head) < 8:
            self.head += data[: 8 - len(self.head)]
        self.consumed += len(data)
        return data

    def tell(self) -> int:
        return self.consumed


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return None


def iter_records(stream: BinaryIO, record_format: str = "warc", verify_digests: bool = True,
                 local_path: str | None = None) -> Iterator[RawRecord]:
    """Yield `response` records (WARC) or `conversion` records (WET) of a (gzipped) stream, in order.

    With `verify_digests`, a record whose WARC-Block-Digest does not match its bytes is treated as damage
    (this is how a file cut inside a record shows up: fastwarc returns the short record silently).
    With `local_path`, the end of the file is checked too (see `check_gzip_tail`).
    """
    wanted = WarcRecordType.response if record_format == "warc" else WarcRecordType.conversion
    reader = _CountingReader(stream)
    pending: RawRecord | None = None  # a record's length is known when the next one starts
    last_pos = 0
    try:
        for record in ArchiveIterator(reader, record_types=WarcRecordType.any_type, parse_http=False):  # type: ignore[arg-type]  # read()-only, as fastwarc needs
            last_pos = record.stream_pos
            if pending is not None:
                pending.length = record.stream_pos - pending.offset
                yield pending
                pending = None
            if record.record_type != wanted:
                continue
            if verify_digests and "WARC-Block-Digest" in record.headers and not record.verify_block_digest(consume=False):
                raise WarcDamaged(f"record at offset {record.stream_pos} fails its block digest (truncated or corrupt)",
                                  record.stream_pos)
            pending = _to_raw(record, record_format)
    except OSError as exc:  # fastwarc raises OSError on bad gzip data and invalid WARC records
        if reader.error is not None:  # the stream failed (network), not the data
            raise reader.error from None
        raise WarcDamaged(_describe_damage(reader.head, last_pos, exc), last_pos) from exc
    if reader.consumed == 0:
        raise WarcDamaged("empty file (0 bytes)", 0)
    if pending is not None:
        pending.length = reader.consumed - pending.offset
        yield pending
    if local_path is not None:
        check_gzip_tail(local_path, last_pos)


def _describe_damage(head: bytes, offset: int, exc: Exception) -> str:
    if offset == 0 and not head.startswith((b"\x1f\x8b", b"WARC/")):
        return f"not a WARC file: it starts with bytes {head[:4].hex(' ')}, neither gzip (1f 8b) nor 'WARC/'"
    return f"unreadable record at offset {offset}: {exc}"


def _to_raw(record, record_format: str) -> RawRecord:
    headers = record.headers
    if record_format == "warc":
        record.parse_http()
        http = record.http_headers
        status = http.status_code if http is not None else None
        content_type = (http.get("Content-Type") or "") if http is not None else ""
        record_id = headers.get("WARC-Record-ID") or ""
    else:
        status, content_type = None, headers.get("Content-Type") or "text/plain"
        record_id = headers.get("WARC-Refers-To") or headers.get("WARC-Record-ID") or ""
    return RawRecord(
        record_id=record_id,
        url=headers.get("WARC-Target-URI") or "",
        fetch_time=_parse_date(headers.get("WARC-Date")),
        offset=record.stream_pos,
        length=0,
        http_status=status,
        content_type=content_type,
        payload=record.reader.read(),
    )


def check_gzip_tail(path: str, offset: int) -> None:
    """Raise `WarcDamaged` unless the gzip member starting at `offset` runs complete to the end of the file.

    fastwarc stops silently when a file is cut inside a record's headers; this catches that case for
    local files (remote reads fail loudly on a short body instead).
    """
    with open(path, "rb") as fh:
        fh.seek(offset)
        data = fh.read()
    decompressor = zlib.decompressobj(wbits=31)
    try:
        while data:
            decompressor.decompress(data)
            data = decompressor.unused_data
            if data:
                decompressor = zlib.decompressobj(wbits=31)
    except zlib.error as exc:
        raise WarcDamaged(f"gzip data error after offset {offset}: {exc}", offset) from exc
    if not decompressor.eof:
        raise WarcDamaged(f"file ends inside the gzip member at offset {offset} (truncated)", offset)
