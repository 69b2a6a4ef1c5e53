"""Reading CSV: one record per row, byte-range splits for parallel reading, and projection of the read fields.

Values and errors follow ``sopremo.io.csv_format`` (its module docstring). Splits (DESIGN.md, "split files into
byte ranges"): a local, uncompressed, UTF-8 file is cut into byte ranges at line starts only when no record can
span lines, which we know for sure when the file holds no quote character at all (with quoting off: no
backslash-escaped line break). One C-speed scan of the file (``mmap.find``) decides it; a file with quotes is
read as one split, because a quoted field may hold a line break that a cut in the middle would misread. A row
belongs to the range its first byte lies in; every range reads the header names from the start of the file.
``project(fields)`` builds only the named fields of each object record (sopremo.projection).
"""

from __future__ import annotations

import csv
import io
import mmap
import os
import re
from typing import Any, Iterator

from sopremo.errors import DataError
from sopremo.io.base import ProjectableInput, Split
from sopremo.io.files import compression_suffix, is_utf8, newlines_before, open_binary, scheme_of



_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def parse_value(text: str) -> Any:
    """The JSON value of one CSV field: int, float, null (empty) or the text itself."""
    if not text:
        return None
    if text[0] in "-0123456789":
        match = _NUMBER.fullmatch(text)
        if match:
            return float(text) if match.group(1) or match.group(2) else int(text)
    return text


def _has_multiline_records(file: str, quote: str | None) -> bool:
    """Whether a record of ``file`` may span lines: it holds the quote character (or, quoting off, an escaped
    line break)."""
    if os.path.getsize(file) == 0:
        return False
    with open(file, "rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if quote:
            return data.find(quote.encode("utf-8")) >= 0
        return data.find(b"\\\n") >= 0 or data.find(b"\\\r") >= 0


class _Range(io.RawIOBase):
    """A raw stream over bytes [start, end) of a file."""

    def __init__(self, file: str, start: int, end: int):
        self._file, self._left = open(file, "rb"), end - start
        self._file.seek(start)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)[: max(0, self._left)]
        count = self._file.readinto(view) if len(view) else 0
        self._left -= count
        return count

    def close(self) -> None:
        self._file.close()
        super().close()


def _line_start(file: str, offset: int) -> int:
    """The first line start at or after ``offset`` (the file size when there is none)."""
    if offset <= 0:
        return 0
    with open(file, "rb") as stream:
        stream.seek(offset - 1)
        return offset - 1 + len(stream.readline())


class _LineNumbers:
    """``line_of(local)``: the line number in the file of line ``local`` of a range starting at byte ``offset``
    (the lines before the range are counted only when an error needs them)."""

    def __init__(self, file: str, offset: int):
        self.file, self.offset, self.before = file, offset, None if offset else 0

    def __call__(self, local: int) -> int:
        if self.before is None:
            self.before = newlines_before(self.file, self.offset)
        return self.before + local


class CsvInput(ProjectableInput):
    """Streams one record per CSV row (an object by column names, or an array without names); splittable."""

    def read_file(self, file: str) -> Iterator[Any]:
        yield from self.read_split((file, 0, -1))

    def _splittable(self, file: str) -> bool:
        return (not scheme_of(file) and not compression_suffix(file) and is_utf8(self.format.encoding)
                and not _has_multiline_records(file, self.format.quote))

    def read_split(self, part: Split) -> Iterator[Any]:
        """The records of the rows starting inside the byte range ``part``; raises DataError (file, line)."""
        file, lo, hi = part
        fmt = self.format
        names = fmt.columns
        if hi < 0:
            start, end = 0, None
        else:
            start, end = _line_start(file, lo), _line_start(file, hi)
            if start >= end:
                return
            if start > 0 and fmt.reads_header():
                names = names or self._header_of(file)
        raw = open_binary(file) if end is None else _Range(file, start, end)
        encoding = "utf-8-sig" if is_utf8(fmt.encoding) else fmt.encoding
        with io.TextIOWrapper(io.BufferedReader(raw) if end is not None else raw, encoding=encoding,
                              newline="") as text:
            need_header = fmt.reads_header() and start == 0
            yield from self._records(csv.reader(text, **fmt.dialect()), file, start, names, need_header)

    def _header_of(self, file: str) -> list[str]:
        with io.TextIOWrapper(open_binary(file), encoding="utf-8-sig", newline="") as text:
            reader = csv.reader(text, **self.format.dialect())
            for line, row in self._rows(reader, file, self.format.encoding, _LineNumbers(file, 0)):
                return self._header(row, file, line)
        return []

    def _records(self, reader: Any, file: str, start: int, names: list[str] | None,
                 need_header: bool) -> Iterator[Any]:
        fields, line_of = self.fields, _LineNumbers(file, start)
        wanted: list[tuple[int, str]] | None = None
        for local, row in self._rows(reader, file, self.format.encoding, line_of):
            if need_header:
                need_header = False
                names = names or self._header(row, file, line_of(local))
                continue
            if names is None:
                yield [parse_value(v) for v in row]
            elif len(row) != len(names):
                raise DataError(f"CSV row has {len(row)} fields, expected {len(names)} "
                                f"({', '.join(names)})", path=file, line=line_of(local))
            elif fields is None:
                yield {name: parse_value(v) for name, v in zip(names, row)}
            else:
                if wanted is None:
                    wanted = [(i, name) for i, name in enumerate(names) if name in fields]
                yield {name: parse_value(row[i]) for i, name in wanted}

    @staticmethod
    def _rows(reader: Any, file: str, encoding: str, line_of: Any) -> Iterator[tuple[int, list[str]]]:
        """(line of the row's first line within the range, row) of every non-blank row; DataError (with the
        line in the file, ``line_of``) on bad input."""
        start = 1
        try:
            for row in reader:
                if row:
                    yield start, row
                start = reader.line_num + 1
        except csv.Error as exc:
            raise DataError(f"malformed CSV: {exc}", path=file, line=line_of(start)) from None
        except UnicodeDecodeError as exc:
            raise DataError(f"cannot decode CSV as {encoding}: {exc.reason}", path=file,
                            line=line_of(start)) from None

    @staticmethod
    def _header(row: list[str], file: str, line: int) -> list[str]:
        if len(set(row)) != len(row):
            raise DataError(f"CSV header names a column twice: {row!r}", path=file, line=line)
        return row
