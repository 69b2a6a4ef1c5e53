"""The lexical side of the REPL: where statements end, and syntax highlighting with keywords from metadata.

``scan`` splits Meteor text into comments, strings, ``;``, whitespace and code; ``is_complete`` tells whether
an input is ready to run and ``split_statements`` cuts it into statements that keep their line and column.
``tokens(text, keywords)`` classifies Meteor source into (style class, text) pieces: comments, strings,
numbers, ``$variables``, keywords (statement words, operator verbs and property words of the operators in
scope), function names (a name before ``(``), REPL commands and everything else; ``MeteorLexer`` splits them
into lines for prompt-toolkit, and ``STYLE`` colours them.
"""

from __future__ import annotations

import re
from typing import Callable, Iterator

from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.lexers import Lexer
from prompt_toolkit.styles import Style

SHOW = re.compile(r"\s*\$([A-Za-z_][A-Za-z0-9_]*)\s*;?\s*", re.S)
_TOKEN = re.compile(r"""(?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z))|(?P<string>'[^']*'?|"[^"]*"?)|(?P<semi>;)"""
                    r"""|(?P<space>\s+)|(?P<code>[^;'"/\s]+|/)""", re.S)


def scan(text: str) -> Iterator[tuple[str, int, int]]:
    """(kind, start, end) for every piece of ``text``: 'comment', 'string' (maybe unterminated), ';', 'space'
    or 'code'."""
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        yield (";" if kind == "semi" else kind), m.start(), m.end()


def unterminated(text: str) -> str | None:
    """What ``text`` ends inside of: 'string' (unclosed quote), 'block' (unclosed ``/*``), 'line' (a ``//``
    comment), or None."""
    for kind, lo, hi in scan(text):
        if hi == len(text):
            piece = text[lo:hi]
            if kind == "string" and (len(piece) == 1 or piece[-1] != piece[0]):
                return "string"
            if kind == "comment" and piece.startswith("/*") and (len(piece) < 4 or not piece.endswith("*/")):
                return "block"
            if kind == "comment" and piece.startswith("//"):
                return "line"
    return None


def is_complete(text: str) -> bool:
    """Whether the REPL input ``text`` is ready to run: blank, a ``:command``, only comments, or code whose
    last statement ends with ``;`` (outside strings and comments)."""
    stripped = text.strip()
    if not stripped or stripped.startswith(":"):
        return True
    if unterminated(text) in ("string", "block"):
        return False
    significant = [kind for kind, _, _ in scan(text) if kind not in ("space", "comment")]
    return not significant or (significant[-1] == ";" and _open_braces(text) <= 0)


def _open_braces(text: str, end: int | None = None) -> int:
    """``{`` minus ``}`` in the code of ``text[:end]`` (an ``iterate`` body holds statements of its own)."""
    depth = 0
    for kind, lo, hi in scan(text[:end] if end is not None else text):
        if kind == "code":
            depth += text.count("{", lo, hi) - text.count("}", lo, hi)
    return depth


def current_statement(text: str) -> str:
    """The part of ``text`` after its last statement-ending ``;`` (strings and comments respected)."""
    start = 0
    for kind, lo, hi in scan(text):
        if kind == ";":
            start = hi
    return text[start:]


def split_statements(text: str) -> list[str]:
    """The statements of ``text`` (each ending with its ``;``), padded so that lines and columns stay those of
    ``text``: everything before a statement is blanked, newlines kept. Text after the last ``;`` that holds
    more than whitespace and comments is returned as a last statement, with a ``;`` added."""
    pieces, start, depth = [], 0, 0
    for kind, lo, hi in scan(text):
        if kind == "code":
            depth += text.count("{", lo, hi) - text.count("}", lo, hi)
        elif kind == ";" and depth <= 0:  # a `;` inside an iterate body does not end the statement
            pieces.append((start, hi))
            start = hi
    rest = [k for k, lo, hi in scan(text[start:]) if k not in ("space", "comment")]
    if rest:
        pieces.append((start, len(text)))
    statements = [re.sub(r"[^\n]", " ", text[:lo]) + text[lo:hi] for lo, hi in pieces]
    if rest:
        last = statements[-1].rstrip()
        statements[-1] = last + ("\n;" if unterminated(last) == "line" else ";")
    return statements


def show_target(statement: str) -> str | None:
    """The variable name when ``statement`` is just ``$name`` (optionally with ``;``), else None."""
    code = "".join(statement[lo:hi] for kind, lo, hi in scan(statement) if kind != "comment")
    m = SHOW.fullmatch(code)
    return m.group(1) if m else None


_PIECE = re.compile(r"""
    (?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>'[^']*'?|"[^"]*"?)
  | (?P<variable>\$[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>(?:[0-9]+\.[0-9]+|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<space>\s+)
  | (?P<other>.)
""", re.S | re.X)
_CALL = re.compile(r"\s*\(")
_RESERVED = frozenset(("fn", "in", "and", "or", "not", "if", "as"))
_COMMAND = re.compile(r"\s*:[A-Za-z]+")

STYLE = Style.from_dict({
    "keyword": "bold ansiblue",
    "string": "ansigreen",
    "number": "ansimagenta",
    "variable": "ansicyan",
    "comment": "italic ansibrightblack",
    "function": "ansiyellow",
    "command": "bold ansiyellow",
})


def tokens(text: str, keywords: set[str] | frozenset[str]) -> list[tuple[str, str]]:
    """The pieces of ``text`` as (style class, text); classes: comment, string, number, variable, keyword,
    function (a name before ``(``), name (others, and fields after ``.``), command (a ``:command`` at the
    start) or '' (whitespace and punctuation)."""
    pieces: list[tuple[str, str]] = []
    pos = 0
    if (m := _COMMAND.match(text)):
        pieces.append(("command", m.group(0)))
        pos = m.end()
    for m in _PIECE.finditer(text, pos):
        kind, piece = m.lastgroup, m.group(0)
        if kind == "word":
            if text[m.start() - 1:m.start()] == ".":
                kind = "name"  # a field: $r.value, $r.key
            elif _CALL.match(text, m.end()) and piece not in _RESERVED:
                kind = "function"  # also verbs used as functions: sort($a), filter($a, f)
            else:
                kind = "keyword" if piece in keywords else "name"
        elif kind in ("space", "other"):
            kind = ""
        pieces.append((kind, piece))
    return pieces


def lines_of(pieces: list[tuple[str, str]]) -> list[StyleAndTextTuples]:
    """The pieces split at newlines into one list of prompt-toolkit (``class:<kind>``, text) tuples per line."""
    lines: list[StyleAndTextTuples] = [[]]
    for kind, piece in pieces:
        style = f"class:{kind}" if kind else ""
        for i, part in enumerate(piece.split("\n")):
            if i:
                lines.append([])
            if part:
                lines[-1].append((style, part))
    return lines


class MeteorLexer(Lexer):
    """Highlights the REPL buffer; ``keywords()`` gives the words in scope (called once per document)."""

    def __init__(self, keywords: Callable[[], set[str]]):
        self.keywords = keywords

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        lines = lines_of(tokens(document.text, self.keywords()))

        def get_line(lineno: int) -> StyleAndTextTuples:
            return lines[lineno] if 0 <= lineno < len(lines) else []

        return get_line
