"""Line-based sources and sinks of the PACT API: text lines, delimited lines and CSV (records as tuples).

Every format here reads a file (parallel: byte-range splits, a line belongs to the split it starts in) and
writes one atomically. Records: ``TextLines`` gives one ``str`` per line; ``DelimitedLines`` and ``Csv`` give one
tuple of fields per line, converted by ``types`` (one callable per field, e.g. ``(int, str, float)``), or dicts
when ``names`` are given. A line that does not parse raises FormatError with file and line.
"""

from __future__ import annotations

import csv
import io
import os
from typing import Any, Callable, Iterator, Sequence

from pact_backend.io.files import AtomicOutput, FormatError, RecordWriter, Split, byte_splits, range_lines


class LineFormat:
    """Base of line formats: ``path``, ``encoding``; subclasses define ``parse(text)`` and ``render(record)``."""

    name = "lines"
    skip_header = False  # the first line of the file names the fields

    def __init__(self, path: str, encoding: str = "utf-8"):
        self.path, self.encoding = str(path), encoding

    def parse(self, text: str) -> Any:
        return text

    def render(self, record: Any) -> str:
        return str(record)

    def describe(self) -> str:
        return f"{self.name} {self.path}"

    # -- input --------------------------------------------------------------------------------------------------

    def read(self) -> Iterator[Any]:
        """Every record of the file, in order; raises FormatError naming file and line."""
        with open(self.path, "r", encoding=self.encoding, newline="") as stream:
            for number, line in enumerate(stream, 1):
                if number > 1 or not self.skip_header:
                    yield self._parse(line, number, None)

    def splits(self, n: int) -> list[Split]:
        return byte_splits(self.path, n)

    def read_split(self, part: Split) -> Iterator[Any]:
        """The records of the lines starting in the byte range ``part``."""
        path, lo, hi = part
        for offset, raw in range_lines(path, lo, hi):
            if offset or not self.skip_header:
                yield self._parse(raw.decode(self.encoding), None, offset)

    def _parse(self, line: str, number: int | None, offset: int | None) -> Any:
        try:
            return self.parse(line.rstrip("\r\n"))
        except (ValueError, TypeError, csv.Error) as exc:
            raise FormatError(str(exc), self.path, number, offset) from None

    # -- output -------------------------------------------------------------------------------------------------

    def open(self) -> RecordWriter:
        """A writer of one line per record, visible at ``path`` on commit."""
        render = self.render
        return RecordWriter(AtomicOutput(self.path, encoding=self.encoding),
                            lambda stream, record: stream.write(render(record) + "\n"))


class TextLines(LineFormat):
    """One ``str`` record per line (without its line break); writes ``str(record)`` per line."""

    name = "text"


def _convert(fields: Sequence[str], types: Sequence[Callable[[str], Any]] | None,
             names: Sequence[str] | None) -> Any:
    if types is not None:
        if len(fields) != len(types):
            raise ValueError(f"expected {len(types)} fields, got {len(fields)}")
        fields = [t(f) for t, f in zip(types, fields)]
    if names is not None:
        if len(fields) != len(names):
            raise ValueError(f"expected {len(names)} fields, got {len(fields)}")
        return dict(zip(names, fields))
    return tuple(fields)


class DelimitedLines(LineFormat):
    """Fields separated by ``delimiter`` (default tab, no quoting): a tuple per line (a dict with ``names``),
    fields converted by ``types``; writes ``delimiter.join(str(field))`` (dict records in ``names`` order)."""

    name = "delimited"

    def __init__(self, path: str, delimiter: str = "\t", types: Sequence[Callable] | None = None,
                 names: Sequence[str] | None = None, encoding: str = "utf-8"):
        super().__init__(path, encoding)
        self.delimiter, self.types, self.names = delimiter, types, names

    def parse(self, text: str) -> Any:
        return _convert(text.split(self.delimiter), self.types, self.names)

    def render(self, record: Any) -> str:
        values = [record[n] for n in self.names] if isinstance(record, dict) and self.names else record
        return self.delimiter.join(map(str, values))


class Csv(LineFormat):
    """RFC 4180 CSV (``delimiter``, ``quote``): a tuple per row (a dict with ``names``), fields converted by
    ``types``; ``header``: the first line names the fields (skipped; with ``names`` None it provides them, dicts
    are read). A quoted field may not span lines (rows are lines, so the file splits for parallel reads).
    Writes one row per record (a header line of ``names`` when ``header``)."""

    name = "csv"

    def __init__(self, path: str, delimiter: str = ",", quote: str = '"', header: bool = False,
                 types: Sequence[Callable] | None = None, names: Sequence[str] | None = None,
                 encoding: str = "utf-8"):
        super().__init__(path, encoding)
        self.delimiter, self.quote, self.header, self.types, self.names = delimiter, quote, header, types, names
        self.skip_header = header
        if header and names is None and os.path.exists(self.path):
            with open(self.path, "r", encoding=encoding, newline="") as stream:
                self.names = next(csv.reader(stream, delimiter=delimiter, quotechar=quote), None)

    def parse(self, text: str) -> Any:
        return _convert(next(csv.reader([text], delimiter=self.delimiter, quotechar=self.quote)), self.types,
                        self.names)

    def render(self, record: Any) -> str:
        values = [record[n] for n in self.names] if isinstance(record, dict) and self.names else record
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=self.delimiter, quotechar=self.quote, lineterminator="").writerow(values)
        return buffer.getvalue()

    def open(self) -> RecordWriter:
        writer = super().open()
        if self.header and self.names:
            writer.output.stream.write(self.render(list(self.names)) + "\n")
        return writer
