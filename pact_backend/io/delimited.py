"""CSV and other delimited text files: one record per row, written one row per record.

Rows are read and written by ``pact_backend.io.csv_rows`` (its docstring holds the quoting rules). Records: a
dict by field names when ``names`` are given or ``header`` is true (the first row of each file names the fields,
``names`` then overriding them), else a row of fields (``row_type``: tuple, or list). Values, by ``types``:
- None: the text of each field;
- a sequence of callables, one per field (``(int, str, float)``): each field converted by its own;
- ``"infer"``: a type per column over the whole input (``pact_backend.io.csv_values``): a column whose every
  non-empty field is a JSON number is read as numbers, every other column as text; an empty field is null.
A row with another number of fields than the names (or types) is a DataError naming file and line.

A local, uncompressed file splits into byte ranges at line starts when no record can span lines, which is sure
when the file holds no quote character (one C-speed scan decides); every range reads the header names from the
start of the file. ``fields`` builds only the named fields of dict records.
"""

from __future__ import annotations

import mmap
import os
from typing import Any, Callable, Iterator, Sequence

from pact_backend.errors import DataError, OutputError
from pact_backend.io.atomic import RecordWriter
from pact_backend.io.base import FileFormat
from pact_backend.io.csv_rows import CsvSyntax, csv_rows, render_row
from pact_backend.io.csv_values import INFER, cell_text, infer_numeric, typed
from pact_backend.io.paths import LineNumbers, input_files, line_start, open_text, splittable


class Csv(FileFormat):
    """Delimited text with optional quoting (see the module docstring); ``quote`` None turns quoting off."""

    name = "csv"
    extension = ".csv"

    def __init__(self, path: str, delimiter: str = ",", quote: str | None = '"', header: bool = False,
                 types: Sequence[Callable[[str], Any]] | str | None = None, names: Sequence[str] | None = None,
                 encoding: str = "utf-8", row_type: type = tuple, **options: Any):
        super().__init__(path, encoding, **options)
        self.delimiter, self.quote, self.header, self.types = delimiter, quote or None, header, types
        self.names, self.row_type = list(names) if names is not None else None, row_type
        self._numeric: frozenset | None = None  # columns read as numbers (types "infer"), once known

    def project(self, fields: frozenset[str] | None) -> "Csv":
        clone = super().project(fields)
        clone._numeric = None
        return clone  # type: ignore[return-value]

    # -- input --------------------------------------------------------------------------------------------------

    def splittable(self, file: str) -> bool:
        if not splittable(file, self.encoding):
            return False
        if not self.quote or os.path.getsize(file) == 0:
            return True
        with open(file, "rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return data.find(self.quote.encode(self.encoding)) < 0

    def splits(self, n: int) -> list:
        """Byte ranges as FileFormat cuts them; with more than one, the column types every range must share
        are inferred once here, on the planner's side, and travel with the format to the tasks."""
        parts = super().splits(n)
        if len(parts) > 1:
            self.numeric()
        return parts

    def read_file(self, file: str) -> Iterator[Any]:
        return self._records(file, 0, None)

    def read_range(self, file: str, lo: int, hi: int) -> Iterator[Any]:
        start, end = line_start(file, lo), line_start(file, hi)
        return self._records(file, start, end) if start < end else iter(())

    def rows(self, file: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, list[str], Any]]:
        """(line in the file, fields, the names of the fields or None) of every row of bytes [start, end) of
        ``file`` but the header. Raises DataError naming file and line."""
        line_of = LineNumbers(file, start)
        names, header_due = self.names, self.header and start == 0
        if self.header and start > 0 and names is None:
            names = self._header_of(file)
        with open_text(file, self.encoding, start, end) as text:
            try:
                for local, row in csv_rows(text, self.delimiter, self.quote, self.encoding):
                    if header_due:
                        header_due = False
                        names = names or _header(row, file, local)
                        continue
                    yield line_of(local), row, names
            except CsvSyntax as exc:
                raise DataError(exc.message, path=file, line=line_of(exc.line)) from None

    def _header_of(self, file: str) -> list[str] | None:
        """The names in the first row of ``file`` (None when it is empty)."""
        with open_text(file, self.encoding) as text:
            try:
                for local, row in csv_rows(text, self.delimiter, self.quote, self.encoding):
                    return _header(row, file, local)
            except CsvSyntax as exc:
                raise DataError(exc.message, path=file, line=exc.line) from None
        return None

    def _records(self, file: str, start: int, end: int | None) -> Iterator[Any]:
        make = None
        for line, row, names in self.rows(file, start, end):
            if make is None:
                make = self._maker(names, file)
            try:
                record = make(row)
            except (ValueError, TypeError) as exc:
                raise DataError(f"cannot convert CSV row: {exc}", path=file, line=line) from None
            if record is None:
                expected = len(names) if names is not None else len(self.types)  # type: ignore[arg-type]
                detail = f" ({', '.join(names)})" if names is not None else ""
                raise DataError(f"CSV row has {len(row)} fields, expected {expected}{detail}", path=file, line=line)
            yield record

    def field_presence(self, names: frozenset[str], sample: int = 256) -> tuple[frozenset[str], list[str]] | None:
        """With named columns (a header or ``names``): the names no column has, and the column names (every row
        has every column); None for rows without names (see FileFormat.field_presence)."""
        if self.names is not None:
            columns = list(self.names)
        elif self.header:
            try:
                files = input_files(self.path)
                columns = list(self._header_of(files[0]) or []) if files else []
            except Exception:  # noqa: BLE001 - bad data is reported by the run itself
                return None
        else:
            return None
        return frozenset(names - set(columns)), columns

    def numbered_records(self, part: Any) -> Iterator[tuple[str, int, Any]]:
        """(file, line, record) of the rows of ``part`` (see FileFormat.numbered_records); rows that do not
        convert are left out."""
        for file, lo, hi in self._parts(part):
            start, end = (0, None) if hi < 0 else (line_start(file, lo), line_start(file, hi))
            make = None
            for line, row, names in self.rows(file, start, end):
                make = make or self._maker(names, file)
                try:
                    record = make(row)
                except (ValueError, TypeError):
                    continue
                if record is not None:
                    yield file, line, record

    def _maker(self, names: list[str] | None, file: str) -> Callable[[list[str]], Any]:
        """The function of a row's fields to its record (None when the row has the wrong number of fields)."""
        try:
            return typed(self.types, names, self.fields, self.numeric(), self.row_type)
        except ValueError as exc:
            raise DataError(str(exc), path=file) from None

    def numeric(self) -> frozenset:
        """The columns (names, or positions without names) read as numbers when ``types`` is "infer"."""
        if self.types == INFER and self._numeric is None:
            self._numeric = infer_numeric(self)
        return self._numeric or frozenset()

    # -- output -------------------------------------------------------------------------------------------------

    def open(self) -> "CsvWriter":
        return CsvWriter(self)


def _header(row: list[str], file: str, line: int) -> list[str]:
    if len(set(row)) != len(row):
        raise DataError(f"CSV header names a column twice: {row!r}", path=file, line=line)
    return row


class DelimitedLines(Csv):
    """Fields separated by ``delimiter`` (default tab) without quoting: a tuple per line (a dict with
    ``names``), fields converted by ``types``."""

    name = "delimited"
    extension = ".tsv"

    def __init__(self, path: str, delimiter: str = "\t", types: Sequence[Callable] | None = None,
                 names: Sequence[str] | None = None, encoding: str = "utf-8", **options: Any):
        super().__init__(path, delimiter, None, False, types, names, encoding, **options)


class CsvWriter(RecordWriter):
    """A header row (when the format's ``header`` is true and names are known), then one row per record:
    objects by ``names`` (default: the fields of the first object; a later object with another field is an
    OutputError asking for names), arrays and tuples as rows, anything else as one cell."""

    def __init__(self, fmt: Csv):
        self.format, self.names, self.normalize = fmt, fmt.names, fmt.normalize
        self._header_due = fmt.header
        self._known: set[str] | None = None  # the inferred names, checked against every object
        super().__init__(fmt.path, fmt.encoding)

    def _row(self, cells: list[str]) -> bytes:
        return render_row(cells, self.format.delimiter, self.format.quote).encode("utf-8")

    def encode(self, record: Any) -> bytes:
        head = b""
        if isinstance(record, dict) and self.names is None:
            self.names, self._known = list(record), set(record)
        if self._header_due and self.names is not None:
            head, self._header_due = self._row(self.names), False
        text = self._cell
        if isinstance(record, dict):
            if self._known is not None and not record.keys() <= self._known:
                extra = sorted(set(record) - self._known)
                raise OutputError(f"record has fields {extra} beyond the CSV columns {self.names}; "
                                  f"name the columns of the output", path=self.path)
            cells = [text(record.get(c)) for c in self.names]  # type: ignore[union-attr]
        elif isinstance(record, (list, tuple)):
            cells = [text(v) for v in record]
        else:
            cells = [text(record)]
        return head + self._row(cells)

    def _cell(self, value: Any) -> str:
        return cell_text(value, self.normalize)

    def end(self) -> bytes:
        return self._row(self.names) if self._header_due and self.names is not None else b""
