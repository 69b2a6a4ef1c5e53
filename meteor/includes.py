"""Textual ``include 'file.meteor'``: the file's text replaces the two words before parsing, as in the original.

The original's lexer switched to the included file's characters at ``include 'x'`` (Meteor.g, rule INCLUDE), so an
include may stand anywhere a token may, and an included file may lack its final ``;`` (the ``;`` after the
include ends its last statement). ``expand`` builds the text the parser sees plus a ``SourceMap`` from positions
in that text back to (file, line, column), so spans and errors name the file a construct comes from.

A relative path is resolved against the including file's directory (the script's for the top file, the current
directory for text without a path); including a file that is being included is an error, as is an unreadable one.
A leading byte-order mark of any file is dropped (editors on Windows save UTF-8 scripts with one).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import field
from pathlib import Path

from meteor.errors import MeteorBindError, MeteorFrontendError, source_line
from sopremo.quick_dataclass import dataclass

# comments and strings (skipped: an include inside them is text), and the include itself
_TOKENS = re.compile(r"//[^\n]*|/\*.*?\*/|'[^']*'|\"[^\"]*\"|(?<![\w$])include\s+('[^']*'|\"[^\"]*\")", re.S)


def strip_bom(text: str) -> str:
    """``text`` without a leading byte-order mark."""
    return text[1:] if text.startswith("\ufeff") else text


def include_path(target: str, including: str | None) -> Path:
    """An included file's path: relative to the including file's directory (or the cwd for text)."""
    candidate = Path(target)
    if candidate.is_absolute():
        return candidate
    base = Path(including).resolve().parent if including else Path.cwd()
    return base / candidate


@dataclass
class SourceMap:
    """Where each stretch of the expanded text comes from: ``starts[i]`` (offset in the expanded text) begins a
    stretch of file ``paths[i]`` at offset ``offsets[i]`` of that file's text (``texts`` by path)."""

    starts: list[int] = field(default_factory=list)
    paths: list[str | None] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    texts: dict[str | None, str] = field(default_factory=dict)

    def add(self, start: int, path: str | None, offset: int) -> None:
        self.starts.append(start)
        self.paths.append(path)
        self.offsets.append(offset)

    def locate(self, position: int) -> tuple[str | None, int, int]:
        """(file, line, column), 1-based, of offset ``position`` of the expanded text."""
        i = max(bisect.bisect_right(self.starts, position) - 1, 0)
        path = self.paths[i]
        offset = self.offsets[i] + position - self.starts[i]
        text = self.texts[path]
        line = text.count("\n", 0, offset) + 1
        return path, line, offset - (text.rfind("\n", 0, offset) + 1) + 1

    @property
    def has_includes(self) -> bool:
        return len(set(self.paths)) > 1 or len(self.starts) > 1


def expand(text: str, path: str | None) -> tuple[str, SourceMap]:
    """The text of the script ``text`` (file ``path``; a leading byte-order mark dropped) with every include
    replaced by the included text, and where its parts come from.

    Raises MeteorBindError at the include for an unreadable file, one that includes itself or a path holding a
    NUL byte.
    """
    text = strip_bom(text)
    source_map = SourceMap(texts={path: text})
    parts: list[str] = []
    _expand_into(text, path, source_map, parts, [0], ())
    return "".join(parts), source_map


def _expand_into(text: str, path: str | None, smap: SourceMap, parts: list[str], length: list[int],
                 stack: tuple[Path, ...]) -> None:
    """Append the expansion of ``text`` to ``parts`` (``length[0]``: their total length) and map it."""
    done = 0
    for match in _TOKENS.finditer(text):
        if match.group(1) is None:
            continue
        _emit(text[done:match.start()], path, done, smap, parts, length)
        name = match.group(1)[1:-1]
        if "\0" in name:
            raise _error(f"an included path cannot contain a NUL byte: {name!r}", text, path, match.start())
        target = include_path(name, path).resolve()
        if target in stack or (path is not None and target == Path(path).resolve()):
            raise _error(f"'{name}' includes itself", text, path, match.start())
        try:
            included = strip_bom(target.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or exc
            raise _error(f"cannot read included file {str(target)!r}: {why}", text, path, match.start()) from None
        smap.texts[str(target)] = included
        _expand_into(included, str(target), smap, parts, length, (*stack, target))
        _emit("\n", path, match.end(), smap, parts, length)  # ends a trailing // comment of the included file
        done = match.end()
    _emit(text[done:], path, done, smap, parts, length)


def _emit(piece: str, path: str | None, offset: int, smap: SourceMap, parts: list[str], length: list[int]) -> None:
    smap.add(length[0], path, offset)
    parts.append(piece)
    length[0] += len(piece)


def _error(message: str, text: str, path: str | None, offset: int) -> MeteorBindError:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return MeteorBindError(message, path=path, line=line, column=column, source_line=source_line(text, line))


def relocate(error: MeteorFrontendError, expanded: str, smap: SourceMap | None) -> MeteorFrontendError:
    """``error`` (located in the expanded text) re-created at the file and position its location comes from."""
    if smap is None or not smap.has_includes or error.line is None or error.column is None:
        return error
    lines = expanded.split("\n")
    position = sum(len(line) + 1 for line in lines[:error.line - 1]) + error.column - 1
    path, line, column = smap.locate(min(position, max(len(expanded) - 1, 0)))
    return type(error)(error.message, path=path, line=line, column=column, expected=error.expected,
                       suggestions=error.suggestions, source_line=source_line(smap.texts[path], line))
