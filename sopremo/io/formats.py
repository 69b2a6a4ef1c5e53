"""The built-in data formats of Sopremo: json, jsonl, csv, tsv, text, and the format of a path by its extension.

Each format holds its Meteor options and builds the pact_backend.io format that does the work. A path's format
follows its extension (meteor-language.md: "Format auto-detection by extension (.csv -> csv, default json)"),
looking through a compression suffix (``lineitem.jsonl.gz`` is jsonl).
"""

from __future__ import annotations

import os

from pact_backend.io import JsonArray, JsonLines, TextLines
from pact_backend.io.paths import COMPRESSION
from sopremo.io.base import DataFormat
from sopremo.io.csv_format import CsvFormat, TsvFormat


class JsonFormat(DataFormat):
    """``json``: one JSON array per file (its elements are the records); option ``encoding``."""

    name = "json"
    extensions = (".json",)
    doc = "one JSON array per file, streamed element by element"

    def input_format(self, path: str) -> JsonArray:
        return JsonArray(path, **self.file_options())

    output_format = input_format


class JsonLinesFormat(DataFormat):
    """``jsonl``: one JSON value per line (blank lines skipped); option ``encoding``."""

    name = "jsonl"
    extensions = (".jsonl", ".ndjson")
    doc = "JSON Lines: one JSON value per line"

    def input_format(self, path: str) -> JsonLines:
        return JsonLines(path, **self.file_options())

    output_format = input_format


class TextFormat(DataFormat):
    """``text``: one record ``{"line": ...}`` per line of text."""

    name = "text"
    extensions = (".txt", ".text", ".log")
    doc = 'lines of text as records {"line": ...}'

    def input_format(self, path: str) -> TextLines:
        return TextLines(path, field="line", **self.file_options())

    output_format = input_format


FORMATS: dict[str, type[DataFormat]] = {
    cls.name: cls for cls in (JsonFormat, JsonLinesFormat, CsvFormat, TsvFormat, TextFormat)
}

_BY_EXTENSION: dict[str, type[DataFormat]] = {
    ext: cls for cls in FORMATS.values() for ext in cls.extensions
}


def _extension(path: str) -> str:
    """The extension of ``path`` that names a format ('' when none), looking through a compression suffix."""
    base, ext = os.path.splitext(path.rstrip("/"))
    if ext.lower() in COMPRESSION:
        ext = os.path.splitext(base)[1]
    return ext.lower()


def format_for_path(path: str) -> type[DataFormat]:
    """The format class for ``path`` by its extension (.json, .jsonl/.ndjson, .csv, .tsv, .txt); default json."""
    return _BY_EXTENSION.get(_extension(path), JsonFormat)
