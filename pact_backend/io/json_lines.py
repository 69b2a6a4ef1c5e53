"""JSON Lines (``.jsonl``, ``.ndjson``): one JSON value per line, blank lines skipped; written one compact value
per line.

A local, uncompressed UTF-8 file is read in chunks of about ``CHUNK`` bytes of whole lines, each decoded by one
msgspec call (``pact_backend.io.projected``), and can be cut into byte ranges so a parallel executor parses it on
every core (DESIGN.md, "split files into byte ranges"): a line belongs to the range its first byte lies in.
Other files (compressed, remote, another encoding) are read line by line. ``fields`` decode only the fields a
plan reads; ``read_batches`` hands a fused source stage whole chunks of rows (pact_backend.runtime.fused_source).
Malformed lines raise DataError naming file, line and column; a UTF-8 byte-order mark at the start is skipped.
"""

from __future__ import annotations

import codecs
import itertools
import os
from typing import Any, Iterable, Iterator

from pact_backend.errors import DataError
from pact_backend.io.atomic import RecordWriter
from pact_backend.io.base import WHOLE, FileFormat, Split
from pact_backend.io.json_values import Malformed, dumps, loads
from pact_backend.io.paths import input_files, is_utf8, newlines_before, open_binary, open_utf8, splittable
from pact_backend.io.projected import ChunkDecoder, ChunkFallback, RowDecoder


def _line_error(file: str, exc: Malformed, lineno: int) -> DataError:
    return DataError(f"malformed JSON line: {exc.msg}", path=file, line=lineno, column=exc.column)


def _value(line: bytes, first: bool) -> tuple[bool, Any]:
    """(whether ``line`` holds a value, the value); a blank line holds none. Raises Malformed."""
    if first and line.startswith(codecs.BOM_UTF8):
        line = line[len(codecs.BOM_UTF8):]
    try:
        return True, loads(line)
    except Malformed:
        if line.strip():
            raise
        return False, None


class JsonLines(FileFormat):
    """One JSON value per line (see the module docstring)."""

    name = "jsonl"
    extension = ".jsonl"
    CHUNK = 1 << 18

    def read_file(self, file: str) -> Iterator[Any]:
        """The records of one file; raises DataError (file, line, column)."""
        if self.splittable(file):
            return itertools.chain.from_iterable(self._chunks(file, 0, None))  # flattened in C, not per record
        return self._read_stream(file)

    def _read_stream(self, file: str) -> Iterator[Any]:
        project = ChunkDecoder(self.fields).slow_value
        with open_utf8(file, self.encoding) as stream:
            for lineno, line in enumerate(stream, 1):
                try:
                    found, value = _value(line, lineno == 1)
                except Malformed as exc:
                    raise _line_error(file, exc, lineno) from None
                if found:
                    yield project(value)

    def splittable(self, file: str) -> bool:
        return splittable(file, self.encoding) and is_utf8(self.encoding)

    def read_range(self, file: str, lo: int, hi: int) -> Iterator[Any]:
        """The records of the lines that start inside bytes [lo, hi) of ``file``."""
        return itertools.chain.from_iterable(self._chunks(file, lo, hi))

    def row_decoder(self, absent: Any) -> RowDecoder | None:
        """The decoder ``read_batches`` uses for rows of the projected fields, an absent field holding
        ``absent`` (None when the format is not projected)."""
        return None if self.fields is None else RowDecoder(self.fields, absent)

    def read_batches(self, part: Split | None, decoder: RowDecoder) -> Iterator[Iterable[Any]]:
        """The records of split ``part`` (None: every file of the path) in batches, one per chunk of about
        ``CHUNK`` bytes: ``RowBatch`` of ``decoder`` where the fast path applies, else an iterable of records
        (a chunk with blank or malformed lines, a compressed or remote file). Raises DataError like ``read``."""
        parts = [(f, 0, WHOLE) for f in input_files(self.path)] if part is None else [part]
        for file, lo, hi in parts:
            if not self.splittable(file):
                yield from _blocks(self._read_stream(file))
            else:
                yield from self._chunks(file, lo, None if hi == WHOLE else hi, decoder)

    def _chunks(self, file: str, lo: int, hi: int | None, decoder: ChunkDecoder | None = None
                ) -> Iterator[Iterable[Any]]:
        """The decoded records of the lines starting in [lo, hi) (hi None: to the end), one list per chunk."""
        decoder = ChunkDecoder(self.fields) if decoder is None else decoder
        with open_binary(file, self.CHUNK) as stream:
            hi = os.fstat(stream.fileno()).st_size if hi is None else hi
            pos = lo
            if lo > 0:
                stream.seek(lo - 1)
                pos = lo - 1 + len(stream.readline())
            while pos < hi:
                # whole lines until their bytes exceed the hint, so each starts at or before pos + hint < hi;
                # reading lines (C, memchr) also counts them for the decoder, cheaper than bytes.count
                hint = min(self.CHUNK, hi - pos) - 1
                lines = stream.readlines(hint) if hint > 0 else [stream.readline()]
                data = b"".join(lines)
                if not data:
                    return
                try:
                    yield decoder.decode(data, len(lines))
                except ChunkFallback:
                    yield _slow_chunk(decoder, data, file, pos)  # lazily: records before an error stream out
                pos += len(data)

    def numbered_records(self, part: Split | None) -> Iterator[tuple[str, int, Any]]:
        """(file, line, record) of the lines of ``part`` (see FileFormat.numbered_records), projected as
        ``read`` projects them."""
        project = ChunkDecoder(self.fields).slow_value
        for file, lo, hi in self._parts(part):
            with open_utf8(file, self.encoding) as stream:
                pos = 0
                if lo > 0 and hi != WHOLE:
                    stream.seek(lo - 1)
                    pos = lo - 1 + len(stream.readline())
                lineno = 1 + newlines_before(file, pos)
                for line in stream:
                    if hi != WHOLE and pos >= hi:
                        break
                    pos += len(line)
                    try:
                        found, value = _value(line, lineno == 1)
                    except Malformed:
                        found = False
                    if found:
                        yield file, lineno, project(value)
                    lineno += 1

    def open(self) -> "JsonLinesWriter":
        return JsonLinesWriter(self)


def _slow_chunk(decoder: ChunkDecoder, data: bytes, file: str, pos: int) -> Iterator[Any]:
    """The values of the lines of ``data`` (starting at byte ``pos``) one by one; DataError with the line."""
    for line in data.split(b"\n"):
        try:
            found, value = _value(line, pos == 0)
        except Malformed as exc:
            raise _line_error(file, exc, 1 + newlines_before(file, pos)) from None
        if found:
            yield decoder.slow_value(value)
        pos += len(line) + 1


def _blocks(records: Iterator[Any], size: int = 4096) -> Iterator[list[Any]]:
    """``records`` in lists of up to ``size``."""
    while block := list(itertools.islice(records, size)):
        yield block


class JsonLinesWriter(RecordWriter):
    """Writes one compact JSON value per line (OutputError for NaN, Infinity and non-JSON values)."""

    def __init__(self, fmt: JsonLines):
        self.normalize = fmt.normalize
        super().__init__(fmt.path, fmt.encoding)

    def encode(self, record: Any) -> bytes:
        return dumps(record, self.normalize) + b"\n"
