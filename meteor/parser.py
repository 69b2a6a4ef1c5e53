"""Parsing Meteor scripts: one cached LALR parser per grammar (i.e. per set of packages in scope).

``parse(text, path, scope)`` returns the AST (meteor/ast.py) of a script whose includes are already expanded
(meteor/includes.py); ``prescan_packages`` finds the packages a script names (``using`` statements and
``pkg:name`` qualifiers) before parsing, since the packages in scope decide the grammar (DESIGN.md, "Cache one
parser per set of imported packages"); the tables are cached on disk only where the user alone can write
(meteor/parser_cache.py). Lark errors become MeteorSyntaxError with plain-words expectations
(meteor/syntax_errors.py), located in the file they come from.
"""

from __future__ import annotations

import re
from functools import lru_cache

from meteor import ast
from meteor.deep_stack import MAX_NESTING, call_deep
from meteor.errors import MeteorFrontendError, MeteorSyntaxError, source_line
from meteor.grammar import full_grammar
from meteor.includes import relocate
from meteor.lark_runtime import Lark, Tree, UnexpectedInput, VisitError
from meteor.parser_cache import cached_lark
from meteor.syntax_errors import syntax_error
from meteor.transformer import MeteorTransformer
from sopremo.errors import MeteorError

# comments, strings, statement ends, and everything else, in the order the lexer would see them
_SCAN = re.compile(r"//[^\n]*|/\*.*?\*/|'[^']*'|\"[^\"]*\"|;|[^;'\"/]+|/", re.S)
_USING = re.compile(r"using\s+([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*", re.S)
_QUALIFIER = re.compile(r"(?<![\w$])([A-Za-z_]\w*):(?=[A-Za-z_])")
_NOT_A_LEVEL = frozenset({"start", "args", "named_entry", "path_entry", "tag_entry", "copy_entry", "slice_bound",
                          "op_prop"})


@lru_cache(maxsize=32)
def _lark(grammar: str) -> Lark:
    return cached_lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True,
                       maybe_placeholders=False)


def parser_for(scope) -> Lark:
    """The LALR parser of the operators/formats in ``scope`` (cached by generated grammar)."""
    return _lark(full_grammar(scope))


def parse(text: str, path: str | None, scope, source_map=None) -> ast.Script:
    """The AST of ``text`` (a script file at ``path``, None for text; ``source_map``: where the parts of a text
    with expanded includes come from, see meteor/includes.py); raises MeteorSyntaxError, also for nesting deeper
    than ``MAX_NESTING`` levels and literals Python cannot hold, located in the file the construct comes from."""
    lark = parser_for(scope)
    try:
        tree = lark.parse(text)
    except UnexpectedInput as exc:
        raise relocate(syntax_error(exc, text, path, lark, scope), text, source_map) from None
    try:
        _check_nesting(tree, text, path)
        try:
            return call_deep(MeteorTransformer(path, text, source_map).transform, tree)
        except VisitError as exc:
            if isinstance(exc.orig_exc, MeteorError):
                raise exc.orig_exc from None
            raise
    except MeteorFrontendError as exc:
        raise relocate(exc, text, source_map) from None


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


def prescan_packages(text: str) -> tuple[list[str], list[str]]:
    """The packages ``text`` names before it is parsed: those of its ``using`` statements and those written as
    qualifiers (``ie:annotate``, ``cleansing:levenshtein(...)``), each list in order, each name once."""
    used: list[str] = []
    qualifiers: list[str] = []
    for statement in statements_text(text):
        if (m := _USING.fullmatch(statement)):
            used.extend(n.strip() for n in m.group(1).split(","))
        else:
            qualifiers.extend(_QUALIFIER.findall(re.sub(r"'[^']*'|\"[^\"]*\"", "''", statement)))
    return list(dict.fromkeys(used)), list(dict.fromkeys(qualifiers))
