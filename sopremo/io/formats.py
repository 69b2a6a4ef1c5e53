"""The built-in data formats by name and ``format_for_path``: json, jsonl, csv, tsv, text.

meteor-language.md ("Format auto-detection by extension (.csv -> csv, default json)"); a compression suffix
(``.gz``, ``.bz2``, ``.xz``) is looked through: ``lineitem.jsonl.gz`` is jsonl.
"""

from __future__ import annotations

import os

from sopremo.io.base import DataFormat
from sopremo.io.csv_format import CsvFormat, TsvFormat
from sopremo.io.files import COMPRESSION
from sopremo.io.json_format import JsonFormat
from sopremo.io.jsonl_format import JsonLinesFormat
from sopremo.io.text_format import TextFormat

FORMATS: dict[str, type[DataFormat]] = {
    cls.name: cls for cls in (JsonFormat, JsonLinesFormat, CsvFormat, TsvFormat, TextFormat)
}

_BY_EXTENSION: dict[str, type[DataFormat]] = {
    ext: cls for cls in FORMATS.values() for ext in cls.extensions
}


def format_for_path(path: str) -> type[DataFormat]:
    """The format class for ``path`` by its extension (.json, .jsonl/.ndjson, .csv, .tsv, .txt); default json."""
    base, ext = os.path.splitext(path.rstrip("/"))
    if ext.lower() in COMPRESSION:
        ext = os.path.splitext(base)[1]
    return _BY_EXTENSION.get(ext.lower(), JsonFormat)
