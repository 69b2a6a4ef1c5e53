"""Parsing Meteor scripts: one cached LALR parser per grammar (i.e. per set of packages in scope).

``parse(text, path, scope)`` returns the AST (meteor/ast.py) of one file; ``prescan_packages`` finds the
``using`` statements of a script and of its includes before parsing, since the packages in scope decide the
grammar (DESIGN.md, "Cache one parser per set of imported packages"); the tables are cached on disk only where the user
alone can write (meteor/parser_cache.py). Lark errors become MeteorSyntaxError
with plain-words expectations (meteor/syntax_errors.py).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from lark import Lark
from lark.exceptions import UnexpectedInput

from meteor import ast
from meteor.grammar import full_grammar
from meteor.parser_cache import cached_lark
from meteor.syntax_errors import syntax_error
from meteor.transformer import MeteorTransformer

# comments, strings, statement ends, and everything else, in the order the lexer would see them
_SCAN = re.compile(r"//[^\n]*|/\*.*?\*/|'[^']*'|\"[^\"]*\"|;|[^;'\"/]+|/", re.S)
_USING = re.compile(r"using\s+([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*", re.S)
_INCLUDE = re.compile(r"include\s+('[^']*'|\"[^\"]*\")\s*", re.S)


@lru_cache(maxsize=32)
def _lark(grammar: str) -> Lark:
    return cached_lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True,
                       maybe_placeholders=False)


def parser_for(scope) -> Lark:
    """The LALR parser of the operators/formats in ``scope`` (cached by generated grammar)."""
    return _lark(full_grammar(scope))


def parse(text: str, path: str | None, scope) -> ast.Script:
    """The AST of ``text`` (a script file at ``path``, None for text); raises MeteorSyntaxError."""
    lark = parser_for(scope)
    try:
        tree = lark.parse(text)
    except UnexpectedInput as exc:
        raise syntax_error(exc, text, path, lark, scope) from None
    return MeteorTransformer(path).transform(tree)


def statements_text(text: str) -> list[str]:
    """The statements of ``text`` as source strings with comments removed (strings kept verbatim)."""
    statements, current = [], []
    for match in _SCAN.finditer(text):
        piece = match.group(0)
        if piece.startswith("//") or piece.startswith("/*"):
            current.append(" ")
        elif piece == ";":
            statements.append("".join(current).strip())
            current = []
        else:
            current.append(piece)
    statements.append("".join(current).strip())
    return [s for s in statements if s]


def include_path(target: str, including: str | None) -> Path:
    """An included file's path: relative to the including file's directory (or the cwd for text)."""
    candidate = Path(target)
    if candidate.is_absolute():
        return candidate
    base = Path(including).resolve().parent if including else Path.cwd()
    return base / candidate


def prescan_packages(text: str, path: str | None, _seen: set[Path] | None = None) -> list[str]:
    """Names in ``using`` statements of ``text`` and of the files it includes (in order, each once).

    Unreadable includes are skipped here; expanding them later reports the error at the include statement.
    """
    seen = _seen if _seen is not None else set()
    names: list[str] = []
    for statement in statements_text(text):
        if (m := _USING.fullmatch(statement)):
            names.extend(n.strip() for n in m.group(1).split(","))
        elif (m := _INCLUDE.fullmatch(statement)):
            target = include_path(m.group(1)[1:-1], path).resolve()
            if target in seen or not target.is_file():
                continue
            seen.add(target)
            names.extend(prescan_packages(target.read_text(encoding="utf-8"), str(target), seen))
    return list(dict.fromkeys(names))
