"""JSON array files (``.json``): one top-level array per file, read as a stream of its elements, written one
element per line.

Reading never loads the file: it works on chunks of 1 MiB. When the elements end at line ends (as our writer
and most tools write them), all complete lines of a chunk are parsed by one msgspec call; otherwise a small
bracket- and quote-aware scanner (two regular expressions) finds where each top-level element ends and just that
slice is parsed. An element longer than the buffer grows it geometrically (each refill reads as much as the
buffer holds) and a string that does not end in the buffer is searched on from where the search stopped, so
scanning and copying an element of n bytes costs O(n), not O(n^2 / chunk). Memory stays at
about one chunk plus one element. A file holding a single non-array value yields that value; an empty file
yields nothing. Integers stay exact, NaN and Infinity are refused (pact_backend.io.json_values). Output is
``[``, one compact record per line, ``]`` (DESIGN.md, "Records, expressions, speed").
"""

from __future__ import annotations

import codecs
import re
from typing import Any, Generator, Iterator

import orjson

from pact_backend.errors import DataError
from pact_backend.io.atomic import RecordWriter
from pact_backend.io.base import FileFormat
from pact_backend.io.json_values import Malformed, dumps, exact, long_digits, loads
from pact_backend.io.paths import open_utf8

CHUNK = 1 << 20
_STRING = rb'"[^"\\]*(?:\\.[^"\\]*)*"'
# Runs of element text that hold no structural byte: at depth 0 a comma ends the element, inside not.
_SKIP_TOP = re.compile(rb'(?:[^"\[\]{},]+|' + _STRING + rb')*', re.S)
_SKIP_IN = re.compile(rb'(?:[^"\[\]{}]+|' + _STRING + rb')*', re.S)
_SPACE = re.compile(rb'[ \t\r\n]*')
_QUOTE, _OPEN_ARRAY, _OPEN_OBJECT, _CLOSE_ARRAY, _CLOSE_OBJECT, _COMMA, _BACKSLASH = b'"[{]},\\'
_WHITESPACE = b" \t\r\n"


class _Buffer:
    """A sliding window over a binary stream that knows the 1-based line number of any position in it."""

    def __init__(self, stream: Any, path: str):
        self.stream, self.path = stream, path
        self.buf, self.eof, self.line, self.mark = b"", False, 1, 0

    def fill(self, keep: int, grow: bool = False) -> bool:
        """Drop ``buf[:keep]`` and append one chunk (``grow``: at least as many bytes as are kept, so an element
        that does not fit is rescanned O(log n) times); False at end of file."""
        if self.eof:
            return False
        chunk = self.stream.read(max(CHUNK, len(self.buf) - keep) if grow else CHUNK)
        if not chunk:
            self.eof = True
            return False
        if self.mark < keep:
            self.line_at(keep)
        self.buf, self.mark = self.buf[keep:] + chunk, self.mark - keep
        return True

    def line_at(self, pos: int) -> int:
        """Line of ``buf[pos]``; positions must be asked in increasing order."""
        if pos > self.mark:
            self.line += self.buf.count(b"\n", self.mark, pos)
            self.mark = pos
        return self.line

    def skip_space(self, pos: int) -> int:
        """Position of the next non-whitespace byte (``len(buf)`` at end of file); may shift the buffer to 0."""
        while True:
            pos = _SPACE.match(self.buf, pos).end()
            if pos < len(self.buf) or not self.fill(pos):
                return pos if pos < len(self.buf) else len(self.buf)
            pos = 0

    def error(self, message: str, pos: int, line_offset: int = 0, column: int | None = None) -> DataError:
        return DataError(message, path=self.path, line=self.line_at(pos) + line_offset, column=column)


def _element_end(b: _Buffer, start: int) -> tuple[int, int]:
    """(start, end) of the top-level element at ``start``: ``buf[end]`` is its ',' or the closing ']'.

    The buffer may be refilled (``start`` then moves to 0). Raises DataError at end of file or a stray '}'.
    """
    depth, pos = 0, start
    while True:
        buf = b.buf
        pos = (_SKIP_IN if depth else _SKIP_TOP).match(buf, pos).end()
        if pos < len(buf) and buf[pos] == _QUOTE:  # a string that does not end in the buffer
            start, pos = _string_end(b, start, pos)
            pos += 1
            continue
        if pos < len(buf):
            c = buf[pos]
            if c == _OPEN_ARRAY or c == _OPEN_OBJECT:
                depth += 1
            elif c == _CLOSE_ARRAY or c == _CLOSE_OBJECT:
                if depth == 0:
                    if c == _CLOSE_OBJECT:
                        raise b.error("malformed JSON: unexpected '}'", start)
                    return start, pos
                depth -= 1
            else:
                return start, pos
            pos += 1
            continue
        if not b.fill(start, grow=True):
            raise b.error("malformed JSON: unexpected end of file inside the top-level array", start)
        pos, start = pos - start, 0


def _string_end(b: _Buffer, start: int, quote: int) -> tuple[int, int]:
    """(element start, position of the closing quote) of the string opening at ``buf[quote]``, refilling the
    buffer as needed: each search resumes where the last one stopped (a quote counts when an even number of
    backslashes precede it), so a string of n bytes costs O(n). Raises DataError at end of file."""
    content = scan = quote + 1
    while True:
        buf = b.buf
        end = buf.find(b'"', scan)
        while end >= 0:
            first = end
            while first > content and buf[first - 1] == _BACKSLASH:
                first -= 1
            if (end - first) % 2 == 0:
                return start, end
            end = buf.find(b'"', end + 1)
        scan = len(buf)
        if not b.fill(start, grow=True):
            raise b.error("malformed JSON: unexpected end of file inside a string", start)
        content, scan, start = content - start, scan - start, 0


def _parse(b: _Buffer, start: int, end: int) -> Any:
    try:
        return loads(b.buf[start:end])
    except Malformed as exc:
        if not b.buf[start:end].strip():
            raise b.error("malformed JSON: expected a value in the array", start) from None
        column = exc.column + _column_of(b, start) if exc.line == 1 and exc.column else exc.column
        raise b.error(f"malformed JSON: {exc.msg}", start, exc.line - 1, column) from None


def _column_of(b: _Buffer, pos: int) -> int:
    """0-based column of ``buf[pos]`` (counted from the buffer start when the line began in a dropped chunk)."""
    return pos - (b.buf.rfind(b"\n", 0, pos) + 1)


def read_json_stream(stream: Any, path: str) -> Iterator[Any]:
    """The elements of the top-level JSON array in ``stream`` (or its one non-array value), one at a time.

    Raises DataError with ``path`` and the 1-based line (and column) of the malformed element.
    """
    b = _Buffer(stream, path)
    b.fill(0)
    pos = b.skip_space(3 if b.buf.startswith(codecs.BOM_UTF8) else 0)
    if pos >= len(b.buf):
        return
    if b.buf[pos] != _OPEN_ARRAY:
        yield _parse_rest(b, pos)
        return
    end = yield from _array_elements(b, b.skip_space(pos + 1))
    pos = b.skip_space(end + 1)
    if pos < len(b.buf):
        raise b.error("malformed JSON: data after the end of the top-level array", pos)


def _array_elements(b: _Buffer, pos: int) -> Generator[Any, None, int]:
    """Yield the elements from ``pos`` on; return the position of the array's closing ']'.

    Fast path: whole lines at once (``_line_batch``); after three misses in a row, one element at a time.
    """
    if pos < len(b.buf) and b.buf[pos] == _CLOSE_ARRAY:
        return pos
    misses = 0
    while True:
        if misses < 3:
            pos, batch, end = _line_batch(b, pos)
            if batch is not None:
                misses = 0
                yield from batch
                if end is not None:
                    return end
                pos = b.skip_space(pos)
                continue
            misses += 1
        start, end = _element_end(b, pos)
        yield _parse(b, start, end)
        if b.buf[end] == _CLOSE_ARRAY:
            return end
        pos = b.skip_space(end + 1)


def _line_batch(b: _Buffer, pos: int) -> tuple[int, list[Any] | None, int | None]:
    """Parse a run of whole elements from ``pos`` with one decoder call.

    The run ends at the last line end of the buffer that follows a ',' or the array's ']' (our writer's
    layout), else at the last ``},{`` (minified objects). Since a run starts at an element boundary, it parses
    as an array only if it is exactly a run of whole elements (a cut inside a string or a nested value
    leaves it unbalanced). Returns (next position, elements, position of the closing ']' or None); elements
    None when no cut works (the slow path then scans one element and reports errors precisely).
    """
    if not b.eof and len(b.buf) - pos < CHUNK // 2 and b.fill(pos):
        pos = 0
    buf = b.buf
    stop = len(buf) if b.eof else buf.rfind(b"\n", pos)
    while stop > pos and buf[stop - 1] in _WHITESPACE:
        stop -= 1
    if stop > pos and buf[stop - 1] == _CLOSE_ARRAY:
        batch = _loads_run(b"[" + buf[pos:stop])
        if batch:
            return pos, batch, stop - 1
    elif stop > pos and buf[stop - 1] == _COMMA:
        batch = _loads_run(b"[" + buf[pos:stop - 1] + b"]")
        if batch:
            return stop, batch, None
    cut = buf.rfind(b"},{", pos)
    batch = _loads_run(b"[" + buf[pos:cut + 1] + b"]") if cut > pos else None
    return (cut + 2, batch, None) if batch else (pos, None, None)


def _loads_run(data: bytes) -> list[Any] | None:
    try:
        batch = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return exact(data) if long_digits(data) else batch


def _parse_rest(b: _Buffer, pos: int) -> Any:
    rest = b.buf[pos:] + b.stream.read()
    try:
        return loads(rest)
    except Malformed as exc:
        raise b.error(f"malformed JSON: {exc.msg}", pos, exc.line - 1, exc.column) from None


class JsonArray(FileFormat):
    """One JSON array per file, its elements the records (see the module docstring)."""

    name = "json"
    extension = ".json"

    def read_file(self, file: str) -> Iterator[Any]:
        """The elements of the array in ``file``; raises DataError (file, line, column)."""
        with open_utf8(file, self.encoding) as stream:
            yield from read_json_stream(stream, file)

    def open(self) -> "JsonWriter":
        return JsonWriter(self)


class JsonWriter(RecordWriter):
    """Writes ``[``, one compact JSON record per line (comma-separated), ``]``."""

    def __init__(self, fmt: JsonArray):
        self.normalize = fmt.normalize
        super().__init__(fmt.path, fmt.encoding)

    def begin(self) -> bytes:
        return b"[\n"

    def encode(self, record: Any) -> bytes:
        return (b",\n" if self.count else b"") + dumps(record, self.normalize)

    def end(self) -> bytes:
        return b"\n]\n" if self.count else b"]\n"
