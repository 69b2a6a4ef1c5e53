"""The JSON Lines format (``.jsonl``, ``.ndjson``): one JSON value per line, blank lines skipped.

Reads line by line with orjson; a local uncompressed file can also be cut into byte ranges
(``splits(n)`` / ``read_split(part)``) so a parallel executor parses it on every core (DESIGN.md, "split files
into byte ranges"): a line belongs to the range its first byte lies in. ``project(fields)`` decodes only the
fields a plan reads (``sopremo.io.projected``).
"""

from __future__ import annotations

import codecs
import itertools
import os
from typing import Any, Iterable, Iterator

import orjson

from sopremo.errors import DataError
from sopremo.io.base import DataFormat, FileOutput, ProjectableInput, RecordWriter, Split, encode_json
from sopremo.io.files import compression_suffix, input_files, is_utf8, newlines_before, open_binary, scheme_of
from sopremo.io.json_format import open_utf8
from sopremo.io.projected import ChunkDecoder, ChunkFallback, RowDecoder



def _line_error(file: str, exc: orjson.JSONDecodeError, lineno: int) -> DataError:
    return DataError(f"malformed JSON line: {exc.msg}", path=file, line=lineno, column=exc.colno)


def parse_lines(lines: Any, file: str, first_line: int = 1) -> Iterator[Any]:
    """The JSON value of every non-blank line of ``lines`` (bytes); DataError names file and line."""
    loads = orjson.loads
    for lineno, line in enumerate(lines, first_line):
        try:
            yield loads(line)
        except orjson.JSONDecodeError as exc:
            text = line.strip()
            if lineno == 1 and text.startswith(codecs.BOM_UTF8):
                text = text[len(codecs.BOM_UTF8):]
            if not text:
                continue
            try:
                value = loads(text)
            except orjson.JSONDecodeError:
                raise _line_error(file, exc, lineno) from None
            yield value


class JsonLinesInput(ProjectableInput):
    """Streams one record per line of each file of the path; supports byte-range splits.

    ``fields`` (set by ``project``): the top-level fields the plan reads; records are then decoded with only
    those fields (``sopremo.io.projected``). Local uncompressed UTF-8 files are read in chunks of ``CHUNK``
    bytes, each decoded at once; a chunk the fast path cannot take is decoded line by line.
    """

    CHUNK = 1 << 18

    def read_file(self, file: str) -> Iterator[Any]:
        if self._splittable(file):
            return self.read_split((file, 0, None))
        return self._read_stream(file)

    def _read_stream(self, file: str) -> Iterator[Any]:
        decoder = ChunkDecoder(self.fields)
        stream = open_utf8(file, self.format.encoding)
        try:
            yield from map(decoder.slow_value, parse_lines(stream, file))
        finally:
            stream.close()

    def _splittable(self, file: str) -> bool:
        return not scheme_of(file) and not compression_suffix(file) and is_utf8(self.format.encoding)

    def read_split(self, part: Split) -> Iterator[Any]:
        """The records of the lines that start inside the byte range ``part`` (hi -1: the whole file, however
        stored; hi None: to the end of a local file)."""
        file, lo, hi = part
        if hi is not None and hi < 0:
            return self.read_file(file)
        return itertools.chain.from_iterable(self._chunks(file, lo, hi))  # flattened in C, not per record

    def row_decoder(self) -> RowDecoder | None:
        """The decoder ``read_batches`` uses for projected rows (None when the input is not projected)."""
        return None if self.fields is None else RowDecoder(self.fields)

    def read_batches(self, part: Split | None, decoder: RowDecoder) -> Iterator[Iterable[Any]]:
        """The records of split ``part`` (None: every file of the path) in batches, one per chunk of about
        ``CHUNK`` bytes: ``RowBatch`` of ``decoder`` where the fast path applies, else an iterable of records
        (a chunk with blank or malformed lines, a compressed or remote file). Raises DataError like ``read``."""
        parts = [(f, 0, -1) for f in input_files(self.path)] if part is None else [part]
        for file, lo, hi in parts:
            if hi is not None and hi < 0 and not self._splittable(file):
                yield from _blocks(self._read_stream(file))
            else:
                yield from self._chunks(file, lo, None if hi is not None and hi < 0 else hi, decoder)

    def _chunks(self, file: str, lo: int, hi: int | None, decoder: ChunkDecoder | None = None
                ) -> Iterator[Iterable[Any]]:
        """The decoded records of the lines starting in [lo, hi), one list per chunk of about ``CHUNK`` bytes."""
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
                    yield self._slow_chunk(decoder, data, file, pos)  # lazily: records before an error stream out
                pos += len(data)

    @staticmethod
    def _slow_chunk(decoder: ChunkDecoder, data: bytes, file: str, pos: int) -> Iterator[Any]:
        """The values of the lines of ``data`` (starting at byte ``pos``) one by one; DataError with the line."""
        for line in data.split(b"\n"):
            text = line[len(codecs.BOM_UTF8):] if pos == 0 and line.startswith(codecs.BOM_UTF8) else line
            try:
                value = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                if text.strip():
                    raise _line_error(file, exc, 1 + newlines_before(file, pos)) from None
            else:
                yield decoder.slow_value(value)
            pos += len(line) + 1


def _blocks(records: Iterator[Any], size: int = 4096) -> Iterator[list[Any]]:
    """``records`` in lists of up to ``size``."""
    while block := list(itertools.islice(records, size)):
        yield block


class JsonLinesWriter(RecordWriter):
    """Writes one compact JSON value per line."""

    def encode(self, record: Any) -> bytes:
        return encode_json(record) + b"\n"


class JsonLinesOutput(FileOutput):
    """Writes a JSON Lines file, atomically."""

    def open(self) -> JsonLinesWriter:
        return JsonLinesWriter(self.path, self.format.encoding)


class JsonLinesFormat(DataFormat):
    """``jsonl``: one JSON value per line (blank lines skipped); option ``encoding``."""

    name = "jsonl"
    extensions = (".jsonl", ".ndjson")
    doc = "JSON Lines: one JSON value per line"

    def input_format(self, path: str) -> JsonLinesInput:
        return JsonLinesInput(self, path)

    def output_format(self, path: str) -> JsonLinesOutput:
        return JsonLinesOutput(self, path)
