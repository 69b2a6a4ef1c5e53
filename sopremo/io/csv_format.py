"""The CSV format (and ``tsv``, CSV with a tab): options columns, delimiter, quote, header, encoding.

The Meteor options of pact_backend.io.Csv (which reads and writes; its docstrings hold the quoting rules):
- Field names come from ``columns``, else from the header row; ``header`` defaults to true when no ``columns``
  are given. With ``header`` true and ``columns`` given, the header row is skipped and ``columns`` name the
  fields. With neither, every row is read as a JSON array.
- Values are typed per column: a column whose every non-empty field in the input is a JSON number is read as
  numbers, every other column as text ("007" and phone numbers stay text in every row); an empty field is null.
- ``delimiter`` and ``quote`` are single characters; Meteor strings have no escapes, so ``'\\t'`` (backslash t)
  means a tab. ``quote false`` turns quoting off, ``quote true`` is the double quote.
Writing: a header row (unless ``header false``), then one row per record: objects by ``columns`` (default: the
fields of the first record; a later record with another field is an OutputError asking for ``columns``),
arrays as rows, anything else as one cell. null and missing are empty, booleans ``true``/``false``, arrays and
objects their JSON text.
"""

from __future__ import annotations

from typing import Any

from pact_backend.io import INFER, Csv
from sopremo.io.base import ENCODING, DataFormat
from sopremo.operator import CONSTANT, PropertyError, PropertySpec

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
            if self.quote == self.delimiter:
                raise PropertyError(f"property 'quote' must differ from the delimiter {self.delimiter!r}", "quote")
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

    def input_format(self, path: str) -> Csv:
        """Reads with the header unless ``columns`` name the fields (or ``header`` says otherwise)."""
        header = self.header if self.header is not None else self.columns is None
        return Csv(path, self.delimiter, self.quote or None, header, INFER, self.columns, row_type=list,
                   **self.file_options())

    def output_format(self, path: str) -> Csv:
        """Writes a header row unless ``header false``."""
        return Csv(path, self.delimiter, self.quote or None, self.header is not False, None, self.columns,
                   **self.file_options())


class TsvFormat(CsvFormat):
    """``tsv``: CSV with a tab as delimiter."""

    name = "tsv"
    extensions = (".tsv", ".tab")
    doc = "tab-separated values"
    properties = tuple(PropertySpec(s.words, s.attr, s.kind, default="\t", doc=s.doc)
                       if s.attr == "delimiter" else s for s in CsvFormat.properties)
