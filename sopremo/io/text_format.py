"""The text format (``.txt``): every line is one record ``{"line": "<text>"}``; option ``encoding``.

Reading strips the line ending (``\\n``, ``\\r\\n`` or ``\\r``) and keeps every line, blank ones included (a text line
carries no structure to be malformed; only undecodable bytes are a DataError naming file and line).
Writing inverts it: a record ``{"line": x}`` (the only field) writes x, a string writes itself, any other
value its compact JSON text, one per line, so ``read text`` -> ``write text`` copies a file.
"""

from __future__ import annotations

import io
from typing import Any, Iterator

from sopremo.errors import DataError
from sopremo.io.base import DataFormat, FileInput, FileOutput, RecordWriter, encode_json
from sopremo.io.files import is_utf8, open_binary

FIELD = "line"


class TextInput(FileInput):
    """Streams ``{"line": text}`` per line of each file of the path."""

    def read_file(self, file: str) -> Iterator[Any]:
        encoding = "utf-8-sig" if is_utf8(self.format.encoding) else self.format.encoding
        lineno = 0
        with io.TextIOWrapper(open_binary(file), encoding=encoding, newline="") as text:
            try:
                for lineno, line in enumerate(text, 1):
                    yield {FIELD: line.rstrip("\r\n")}
            except UnicodeDecodeError as exc:
                raise DataError(f"cannot decode text as {self.format.encoding}: {exc.reason}",
                                path=file, line=lineno + 1) from None


def line_of(record: Any) -> str:
    """The text a record writes as one line (see the module docstring)."""
    if isinstance(record, dict) and len(record) == 1 and isinstance(record.get(FIELD), str):
        return record[FIELD]
    if isinstance(record, str):
        return record
    return encode_json(record).decode("utf-8")


class TextWriter(RecordWriter):
    """Writes one line per record."""

    def encode(self, record: Any) -> bytes:
        return line_of(record).encode("utf-8") + b"\n"


class TextOutput(FileOutput):
    """Writes a text file, atomically."""

    def open(self) -> TextWriter:
        return TextWriter(self.path, self.format.encoding)


class TextFormat(DataFormat):
    """``text``: one record ``{"line": ...}`` per line of text."""

    name = "text"
    extensions = (".txt", ".text", ".log")
    doc = 'lines of text as records {"line": ...}'

    def input_format(self, path: str) -> TextInput:
        return TextInput(self, path)

    def output_format(self, path: str) -> TextOutput:
        return TextOutput(self, path)
