"""The built-in data formats of Sopremo: json, jsonl, csv, tsv, text, and the format of a path by its extension.

Each format holds its Meteor options and builds the pact_backend.io format that does the work. A path's format
follows its extension (docs/language.md, "Reading and writing files"),
looking through a compression suffix (``lineitem.jsonl.gz`` is jsonl). A directory, or a pattern without a
known extension, read without a named format is read file by file, each in the format of its own extension
(``ByExtensionFormat``), so a directory of ``part-00000.csv`` files written by meteor reads back.
"""

from __future__ import annotations

import os
from typing import Any

from pact_backend.io import ByExtension, JsonArray, JsonLines, TextLines
from pact_backend.io.paths import COMPRESSION, is_pattern, local_path, scheme_of
from sopremo.errors import InputNotFoundError
from sopremo.io.base import DataFormat
from sopremo.io.csv_format import CsvFormat, TsvFormat
from sopremo.operator import PropertyError


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


def is_file_set(path: str) -> bool:
    """Whether ``path`` names several files whose formats may differ: a directory (or a path ending with '/')
    or a pattern whose extension names no format."""
    if path.endswith("/") or (not scheme_of(path) and os.path.isdir(local_path(path))):
        return True
    return is_pattern(path) and _extension(path) not in _BY_EXTENSION


def input_format_for_path(path: str) -> type[DataFormat]:
    """The format class reading ``path`` when no format is named: by extension, file by file for a file set."""
    return ByExtensionFormat if is_file_set(path) else format_for_path(path)


class ByExtensionFormat(DataFormat):
    """The files of a directory or pattern, each in the format of its extension with its default options (only
    ``encoding`` applies to all); written as json."""

    name = "by extension"
    doc = "every file in the format of its extension"

    def __init__(self, **options: Any):
        for key in options:
            if key.replace(" ", "_") != "encoding":
                raise PropertyError(f"the files of a directory or pattern are read in the format of each one's "
                                    f"extension, which takes no {key!r}; name the format to give options "
                                    f"(read csv from ... {key} ...)", key)
        super().__init__(**options)

    def choose_input(self, file: str) -> Any:
        """The input format of one file, by its extension; InputNotFoundError naming a file whose extension
        names no format."""
        cls = _BY_EXTENSION.get(_extension(file))
        if cls is None:
            raise InputNotFoundError(f"cannot tell the format of {os.path.basename(file)!r} by its extension; "
                                     f"name the format of the input (e.g. read jsonl from ...)", path=file)
        return cls(encoding=self.encoding).input_format(file)

    def input_format(self, path: str) -> ByExtension:
        return ByExtension(path, self.choose_input, **self.file_options())

    def output_format(self, path: str) -> JsonArray:
        return JsonFormat().output_format(path)
