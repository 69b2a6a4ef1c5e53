"""The Meteor front end: script text -> parse (per package set) -> include expansion -> bind -> SopremoPlan.

``compile_script`` is the one entry point (hand-off interface 5): it pre-scans the ``using`` statements of the
script and its includes to pick the grammar, parses every file with its own path (so errors name the file they
are in), splices ``include``d statements in place, and binds the result (VLDB J. 2014, sec. 5.1).
"""

from __future__ import annotations

from pathlib import Path

from meteor import ast
from meteor.binder import Binder
from meteor.deep_stack import call_deep
from meteor.errors import MeteorBindError, source_line
from meteor.parser import include_path, parse, prescan_packages, strip_bom
from sopremo.operator import SopremoPlan
from sopremo.package import PACKAGES, PackageError, PackageManager, Scope


def grammar_scope(text: str, path: str | None, manager: PackageManager, packages: tuple[str, ...] = ()) -> Scope:
    """A scope holding ``packages`` (already in scope, e.g. from earlier REPL input) and every package the
    script (or its includes) names in ``using``; unknown ones are left out here and reported by the binder at
    their ``using`` statement."""
    scope = Scope(manager)
    for name in (*packages, *prescan_packages(text, path)):
        try:
            scope.use(name)
        except PackageError:
            continue
    return scope


def parse_script(text: str, path: str | None = None, manager: PackageManager | None = None,
                 sources: dict | None = None, packages: tuple[str, ...] = ()) -> list[ast.Node]:
    """The statements of the script with includes expanded; raises MeteorSyntaxError / MeteorBindError.

    ``sources`` (optional dict) receives the text of every file read, keyed by path, for error excerpts.
    ``packages``: names already in scope before this text (the REPL parses one input at a time).
    """
    sources = sources if sources is not None else {}
    text = strip_bom(text)
    scope = grammar_scope(text, path, manager or PACKAGES, tuple(packages))
    sources[path] = text
    return _expand(parse(text, path, scope), path, scope, sources, ())


def _expand(script: ast.Script, path: str | None, scope: Scope, sources: dict, stack: tuple) -> list[ast.Node]:
    statements: list[ast.Node] = []
    for statement in script.statements:
        if not isinstance(statement, ast.Include):
            statements.append(statement)
            continue
        if "\0" in statement.path:
            raise _include_error(f"an included path cannot contain a NUL byte: {statement.path!r}", statement,
                                 sources)
        target = include_path(statement.path, path).resolve()
        if target in stack:
            raise _include_error(f"'{statement.path}' includes itself", statement, sources)
        try:
            text = strip_bom(target.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or exc
            raise _include_error(f"cannot read included file {str(target)!r}: {why}", statement, sources) from None
        sources[str(target)] = text
        included = parse(text, str(target), scope)
        statements.extend(_expand(included, str(target), scope, sources, (*stack, target)))
    return statements


def _include_error(message: str, node: ast.Node, sources: dict) -> MeteorBindError:
    span = node.span
    return MeteorBindError(message, path=span.path, line=span.line, column=span.column,
                           source_line=source_line(sources.get(span.path, ""), span.line))


def compile_script(text: str, path: str | None = None, params: dict | None = None,
                   manager: PackageManager | None = None) -> SopremoPlan:
    """The SopremoPlan of the Meteor script ``text`` (read from ``path`` when given, for errors and includes).

    ``params``: constants the script may use; they override script constants of the same name.
    ``manager``: where packages come from (default: the installed ``meteor.packages`` entry points).
    Raises MeteorSyntaxError or MeteorBindError (both sopremo.errors.MeteorError) naming file, line, column.
    Runs on a deep stack (meteor/deep_stack.py): scripts nested up to ``MAX_NESTING`` levels compile.
    """
    return call_deep(_compile, text, path, params, manager)


def _compile(text: str, path: str | None, params: dict | None, manager: PackageManager | None) -> SopremoPlan:
    manager = manager or PACKAGES
    sources: dict = {}
    statements = parse_script(text, str(Path(path)) if path else None, manager, sources)
    binder = Binder(Scope(manager), params=params, sources=sources)
    return binder.bind_script(statements)
