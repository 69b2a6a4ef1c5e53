"""The CSV format (and ``tsv``, CSV with a tab): options columns, delimiter, quote, header, encoding.

Reading (meteor-language.md: ``read csv from 'x' columns ['A','B'] delimiter ',' quote false``):
- Field names come from ``columns``, else from the header row; ``header`` defaults to true when no ``columns``
  are given. With ``header`` true and ``columns`` given, the header row is skipped and ``columns`` name the
  fields. With neither, every row is read as a JSON array.
- Values: a field that is a JSON number (``-12``, ``3.5``, ``1e3``; no leading zeros, no spaces) becomes an int
  or a float, an empty field becomes null, everything else stays a string ("007" and phone numbers stay text).
  Python's csv module cannot tell ``""`` from an empty field, so a quoted empty field is null too.
- A row with a different number of fields than the columns, or broken quoting, is a DataError naming the file
  and the row's first line; blank lines are skipped.
- ``delimiter`` and ``quote`` are single characters; Meteor strings have no escapes, so ``'\\t'`` (backslash t)
  means a tab. ``quote false`` turns quoting off.
Reading (byte-range splits, projection of the read fields) lives in ``sopremo.io.csv_input``.
Writing: a header row (unless ``header false``), then one row per record: objects by ``columns`` (default: the
fields of the first record; a later record with another field is an OutputError asking for ``columns``),
arrays as rows, anything else as one cell. null and missing are empty, booleans ``true``/``false``, arrays and
objects their JSON text.
"""

from __future__ import annotations

import csv
from typing import Any

from sopremo.errors import OutputError
from sopremo.io.base import ENCODING, DataFormat, FileOutput, RecordWriter, encode_json
from sopremo.io.csv_input import CsvInput, parse_value
from sopremo.operator import CONSTANT, PropertyError, PropertySpec
from sopremo.values import MISSING

_ESCAPES = {"\\t": "\t", "\\n": "\n", "\\r": "\r", "\\\\": "\\", "tab": "\t"}


def _one_char(prop: str, value: Any) -> str:
    if isinstance(value, str):
        value = _ESCAPES.get(value, value)
    if not isinstance(value, str) or len(value) != 1:
        raise PropertyError(f"property {prop!r} must be one character, got {value!r}", prop)
    return value


class CsvFormat(DataFormat):
    """``csv``: delimited text with a header row; see the module docstring for the value conventions."""

    name = "csv"
    extensions = (".csv",)
    doc = "comma-separated values (header row or explicit columns)"
    properties = (
        PropertySpec("columns", "columns", CONSTANT, doc="field names, in file order"),
        PropertySpec("delimiter", "delimiter", CONSTANT, default=",", doc="field separator (one character)"),
        PropertySpec("quote", "quote", CONSTANT, default='"', doc="quote character, or false for none"),
        PropertySpec("header", "header", CONSTANT, doc="first row holds the names (default: no columns given)"),
        ENCODING,
    )

    def validate(self) -> None:
        super().validate()
        self.delimiter = _one_char("delimiter", self.delimiter)
        if self.quote is True:
            self.quote = '"'
        if self.quote is not False and self.quote is not None:
            self.quote = _one_char("quote", self.quote)
        if self.columns is not None:
            cols = [self.columns] if isinstance(self.columns, str) else self.columns
            if not isinstance(cols, (list, tuple)) or not cols or not all(isinstance(c, str) for c in cols):
                raise PropertyError(f"property 'columns' must be a non-empty array of names, got {cols!r}",
                                    "columns")
            if len(set(cols)) != len(cols):
                raise PropertyError(f"property 'columns' names a column twice: {cols!r}", "columns")
            self.columns = list(cols)
        if self.header is not None and not isinstance(self.header, bool):
            raise PropertyError(f"property 'header' must be true or false, got {self.header!r}", "header")

    def dialect(self) -> dict[str, Any]:
        """Keyword arguments of ``csv.reader`` / ``csv.writer`` for these options."""
        if not self.quote:
            return dict(delimiter=self.delimiter, quoting=csv.QUOTE_NONE, escapechar="\\", strict=True)
        return dict(delimiter=self.delimiter, quotechar=self.quote, doublequote=True, strict=True)

    def reads_header(self) -> bool:
        return self.header if self.header is not None else self.columns is None

    def input_format(self, path: str) -> "CsvInput":
        return CsvInput(self, path)

    def output_format(self, path: str) -> "CsvOutput":
        return CsvOutput(self, path)


class TsvFormat(CsvFormat):
    """``tsv``: CSV with a tab as delimiter."""

    name = "tsv"
    extensions = (".tsv", ".tab")
    doc = "tab-separated values"
    properties = tuple(PropertySpec(s.words, s.attr, s.kind, default="\t", doc=s.doc)
                       if s.attr == "delimiter" else s for s in CsvFormat.properties)


class _Collect:
    """A file-like sink for csv.writer that keeps the last written row."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def take(self) -> bytes:
        data, self.parts = "".join(self.parts), []
        return data.encode("utf-8")


def format_cell(value: Any) -> str:
    """The CSV text of one value: '' for null/missing, true/false, numbers, text, JSON for containers."""
    if value is None or value is MISSING:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return repr(value)
    return encode_json(value).decode("utf-8")


class CsvWriter(RecordWriter):
    """Writes a header row and one row per record (see the module docstring)."""

    def __init__(self, path: str, fmt: CsvFormat):
        self.format, self.columns, self._buffer = fmt, fmt.columns, _Collect()
        self._csv = csv.writer(self._buffer, lineterminator="\n", **fmt.dialect())
        self._header_due = fmt.header is not False
        self._known: set[str] | None = None  # the inferred columns, checked against every object
        super().__init__(path, fmt.encoding)

    def _row(self, cells: list[str]) -> bytes:
        try:
            self._csv.writerow(cells)
        except csv.Error as exc:
            raise OutputError(f"cannot write CSV row {cells!r}: {exc}", path=self.path) from None
        return self._buffer.take()

    def encode(self, record: Any) -> bytes:
        head = b""
        if isinstance(record, dict) and self.columns is None:
            self.columns, self._known = list(record), set(record)
        if self._header_due and self.columns is not None:
            head, self._header_due = self._row(self.columns), False
        if isinstance(record, dict):
            if self._known is not None and not record.keys() <= self._known:
                extra = sorted(set(record) - self._known)
                raise OutputError(f"record has fields {extra} beyond the CSV columns {self.columns}; "
                                  f"give the sink 'columns'", path=self.path)
            cells = [format_cell(record.get(c)) for c in self.columns]
        elif isinstance(record, (list, tuple)):
            cells = [format_cell(v) for v in record]
        else:
            cells = [format_cell(record)]
        return head + self._row(cells)

    def end(self) -> bytes:
        if self._header_due and self.columns is not None:
            return self._row(self.columns)
        return b""


class CsvOutput(FileOutput):
    """Writes a CSV file, atomically."""

    def open(self) -> CsvWriter:
        return CsvWriter(self.path, self.format)
