"""CSV text to rows and rows to CSV text: the one tokenizer and renderer of the delimited formats.

Reading (the quoting rules of the original Sopremo CsvInputFormat, plus RFC 4180's doubled quotes):
- Fields are separated by the delimiter; a row ends at a line end (``\\n``, ``\\r\\n``, ``\\r``) outside quotes.
- A field that starts with the quote character is quoted: it ends at the next lone quote, may hold delimiters
  and line ends, and inside it a backslash escapes the next character (``\\"`` is a quote, ``\\\\`` a backslash)
  and a doubled quote ``""`` is a quote. After the closing quote comes a delimiter or the row's end.
- Outside quotes a backslash and a quote in the middle of a field are plain characters; with quoting off
  (``quote`` None) every character but the delimiter and line ends is plain. Empty lines are skipped.
Lines without the quote character are split at C speed (``str.split``); only lines with quotes are scanned
field by field, resuming where a multi-line field left off, so reading stays linear.

Writing: a field holding the delimiter, the quote, a backslash or a line end is quoted, with quotes doubled and
backslashes escaped, so every value reads back as written. Without quoting such a field is an OutputError.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator

from pact_backend.errors import OutputError


class CsvSyntax(ValueError):
    """Text that is not CSV (or not in the encoding): ``message`` and the 1-based ``line`` of the row's start."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.message, self.line = message, line


def _ending(text: str, pos: int) -> int:
    """Length of the line end at ``text[pos:]`` (0 when there is none)."""
    if text.startswith("\r\n", pos):
        return 2
    return 1 if text.startswith(("\n", "\r"), pos) else 0


class _Quoted:
    """The scanner of one dialect's quoted fields (see the module docstring)."""

    def __init__(self, delimiter: str, quote: str):
        q, b = re.escape(quote), re.escape("\\")
        self.delimiter, self.quote = delimiter, quote
        self.content = re.compile(rf"[^{q}{b}]*(?:(?:{b}.|{q}{q})[^{q}{b}]*)*", re.S)
        self.unescape = re.compile(rf"{b}(.)|{q}({q})", re.S)

    def row(self, text: str, line: int, more: Iterator[str]) -> tuple[list[str], int]:
        """(fields, lines consumed beyond the first) of the row starting with the line ``text``; pulls the
        following lines from ``more`` while a quoted field is open. Raises CsvSyntax."""
        fields: list[str] = []
        pos, extra, eol, delimiter, quote = 0, 0, -1, self.delimiter, self.quote
        while True:
            if text.startswith(quote, pos):
                scan = start = pos + 1
                while True:
                    scan = self.content.match(text, scan).end()
                    if scan < len(text) and text[scan] == quote:
                        break
                    following = next(more, None)
                    if following is None:
                        raise CsvSyntax("malformed CSV: the file ends inside a quoted field", line)
                    text, extra = text + following, extra + 1
                value = text[start:scan]
                if "\\" in value or quote * 2 in value:
                    value = self.unescape.sub(lambda m: m.group(1) or m.group(2), value)
                fields.append(value)
                pos = scan + 1
                if not text.startswith(delimiter, pos) and pos < len(text) and not _ending(text, pos):
                    raise CsvSyntax(f"malformed CSV: {delimiter!r} expected after the closing quote",
                                    line + extra)
            else:
                if eol < pos:  # the end of the physical line this field is on
                    eol = min((i for i in (text.find("\n", pos), text.find("\r", pos)) if i >= 0),
                              default=len(text))
                end = text.find(delimiter, pos, eol)
                end = eol if end < 0 else end
                fields.append(text[pos:end])
                pos = end
            if text.startswith(delimiter, pos):
                pos += len(delimiter)
                continue
            return fields, extra


def csv_rows(lines: Iterable[str], delimiter: str, quote: str | None, encoding: str = "utf-8"
             ) -> Iterator[tuple[int, list[str]]]:
    """(1-based line of the row's first line, its fields) of every non-empty row of ``lines`` (text lines with
    their line ends). Raises CsvSyntax for malformed rows and undecodable bytes (in ``encoding``)."""
    quoted = _Quoted(delimiter, quote) if quote else None
    stream = iter(lines)
    line = 0
    try:
        for text in stream:
            line += 1
            if quoted is None or quote not in text:
                body = text.rstrip("\r\n")
                if body:
                    yield line, body.split(delimiter)
                continue
            fields, extra = quoted.row(text, line, stream)
            yield line, fields
            line += extra
    except UnicodeDecodeError as exc:
        raise CsvSyntax(f"cannot decode CSV as {encoding}: {exc.reason}", line + 1) from None


def render_row(cells: list[str], delimiter: str, quote: str | None) -> str:
    """One CSV line (with ``\\n``) of the text ``cells``, quoted where needed (see the module docstring)."""
    specials = (delimiter, "\n", "\r") if quote is None else (delimiter, quote, "\\", "\n", "\r")
    out = []
    for cell in cells:
        if any(s in cell for s in specials):
            if quote is None:
                raise OutputError(f"cannot write {cell!r} without quoting: it holds the delimiter or a line "
                                  f"break (give the format a quote character)")
            cell = quote + cell.replace("\\", "\\\\").replace(quote, quote * 2) + quote
        out.append(cell)
    return delimiter.join(out) + "\n"
