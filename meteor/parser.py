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

from lark import Lark, Tree
from lark.exceptions import UnexpectedInput, VisitError

from meteor import ast
from meteor.deep_stack import MAX_NESTING, call_deep
from meteor.errors import MeteorSyntaxError, source_line
from meteor.grammar import full_grammar
from meteor.parser_cache import cached_lark
from meteor.syntax_errors import syntax_error
from meteor.transformer import MeteorTransformer
from sopremo.errors import MeteorError

# comments, strings, statement ends, and everything else, in the order the lexer would see them
_SCAN = re.compile(r"//[^\n]*|/\*.*?\*/|'[^']*'|\"[^\"]*\"|;|[^;'\"/]+|/", re.S)
_USING = re.compile(r"using\s+([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*", re.S)
_NOT_A_LEVEL = frozenset({"start", "args", "named_entry", "path_entry", "tag_entry", "copy_entry", "slice_bound",
                          "op_prop"})
_INCLUDE = re.compile(r"include\s+('[^']*'|\"[^\"]*\")\s*", re.S)


@lru_cache(maxsize=32)
def _lark(grammar: str) -> Lark:
    return cached_lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True,
                       maybe_placeholders=False)


def parser_for(scope) -> Lark:
    """The LALR parser of the operators/formats in ``scope`` (cached by generated grammar)."""
    return _lark(full_grammar(scope))


def parse(text: str, path: str | None, scope) -> ast.Script:
    """The AST of ``text`` (a script file at ``path``, None for text); raises MeteorSyntaxError, also for
    nesting deeper than ``MAX_NESTING`` levels and literals Python cannot hold."""
    lark = parser_for(scope)
    try:
        tree = lark.parse(text)
    except UnexpectedInput as exc:
        raise syntax_error(exc, text, path, lark, scope) from None
    _check_nesting(tree, text, path)
    try:
        return call_deep(MeteorTransformer(path, text).transform, tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, MeteorError):
            raise exc.orig_exc from None
        raise


def _check_nesting(tree: Tree, text: str, path: str | None) -> None:
    """Raise MeteorSyntaxError at the first construct nested deeper than ``MAX_NESTING`` (an explicit stack:
    the tree may be deeper than Python's recursion allows). Argument lists and object entries are part of
    their call or object, not levels of their own."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        depth += node.data not in _NOT_A_LEVEL
        if depth > MAX_NESTING:
            line, column = getattr(node.meta, "line", None), getattr(node.meta, "column", None)
            raise MeteorSyntaxError(f"expressions or statements nested more than {MAX_NESTING} levels deep",
                                    path=path, line=line, column=column, source_line=source_line(text, line))
        stack.extend((child, depth) for child in node.children if isinstance(child, Tree))


def strip_bom(text: str) -> str:
    """``text`` without a leading byte-order mark (editors on Windows save UTF-8 scripts with one)."""
    return text[1:] if text.startswith("\ufeff") else text


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
        elif (m := _INCLUDE.fullmatch(statement)) and "\0" not in m.group(1):
            target = include_path(m.group(1)[1:-1], path).resolve()
            if target in seen or not target.is_file():
                continue
            seen.add(target)
            try:
                included = strip_bom(target.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                continue
            names.extend(prescan_packages(included, str(target), seen))
    return list(dict.fromkeys(names))
