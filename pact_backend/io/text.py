"""Text files: every line is one record, written one line per record.

Reading strips the line end (``\\n``, ``\\r\\n`` or ``\\r``) and keeps every line, blank ones included (a text
line has no structure to be malformed: only undecodable bytes are a DataError naming file and line); a UTF-8
byte-order mark at the start is dropped. A record is the line's text, or ``{field: text}`` when ``field`` is
set (Sopremo's text format reads ``{"line": ...}``). A local, uncompressed file splits into byte ranges.

Writing inverts it: a string writes itself; with ``field`` set, a record ``{field: text}`` (its only field)
writes the text and any other value its compact JSON; without, any other value its ``str()``. ``read`` then
``write`` copies a file.
"""

from __future__ import annotations

from typing import Any, Iterator

from pact_backend.errors import DataError
from pact_backend.io.atomic import RecordWriter
from pact_backend.io.base import FileFormat
from pact_backend.io.json_values import dumps
from pact_backend.io.paths import LineNumbers, line_start, open_text, splittable


class TextLines(FileFormat):
    """One record per line of text (see the module docstring)."""

    name = "text"
    extension = ".txt"

    def __init__(self, path: str, encoding: str = "utf-8", field: str | None = None, **options: Any):
        super().__init__(path, encoding, **options)
        self.field = field

    def splittable(self, file: str) -> bool:
        return splittable(file, self.encoding)

    def read_file(self, file: str) -> Iterator[Any]:
        return self._lines(file, 0, None)

    def read_range(self, file: str, lo: int, hi: int) -> Iterator[Any]:
        start, end = line_start(file, lo), line_start(file, hi)
        return self._lines(file, start, end) if start < end else iter(())

    def _lines(self, file: str, start: int, end: int | None) -> Iterator[Any]:
        field, local = self.field, 0
        with open_text(file, self.encoding, start, end) as text:
            try:
                for local, line in enumerate(text, 1):
                    line = line.rstrip("\r\n")
                    yield line if field is None else {field: line}
            except UnicodeDecodeError as exc:
                raise DataError(f"cannot decode text as {self.encoding}: {exc.reason}", path=file,
                                line=LineNumbers(file, start)(local + 1)) from None

    def line_of(self, record: Any) -> str:
        """The text a record writes as one line (see the module docstring)."""
        if isinstance(record, str):
            return record
        field = self.field
        if field is None:
            return str(record)
        if isinstance(record, dict) and len(record) == 1 and isinstance(record.get(field), str):
            return record[field]
        return dumps(record, self.normalize).decode("utf-8")

    def open(self) -> "TextWriter":
        return TextWriter(self)


class TextWriter(RecordWriter):
    """Writes one line per record."""

    def __init__(self, fmt: TextLines):
        self.line_of = fmt.line_of
        super().__init__(fmt.path, fmt.encoding)

    def encode(self, record: Any) -> bytes:
        return self.line_of(record).encode("utf-8") + b"\n"
