"""The Meteor front end: script text -> include expansion -> parse (per package set) -> bind -> SopremoPlan.

``compile_script`` is the one entry point (hand-off interface 5): it replaces every ``include 'file'`` by the
file's text (meteor/includes.py, keeping where each part comes from, so errors name the file they are in),
pre-scans the packages the script names (``using``, ``pkg:name``) to pick the grammar, parses and binds the
result (VLDB J. 2014, sec. 5.1).
"""

from __future__ import annotations

from pathlib import Path

from meteor import ast
from meteor.binder import Binder
from meteor.deep_stack import call_deep
from meteor.includes import expand
from meteor.parser import parse, prescan_packages
from sopremo.operator import SopremoPlan
from sopremo.package import PACKAGES, PackageError, PackageManager
from sopremo.scope import Scope


def grammar_scope(text: str, manager: PackageManager, packages: tuple[str, ...] = ()) -> Scope:
    """A scope holding ``packages`` (already in scope, e.g. from earlier REPL input), every package the script
    names in ``using``, and, reachable as ``pkg:name`` only, every package it names as a qualifier; unknown
    ones are left out here and reported by the binder where they are named."""
    scope = Scope(manager)
    used, qualifiers = prescan_packages(text)
    for name in (*packages, *used):
        try:
            scope.use(name)
        except PackageError:
            continue
    for name in qualifiers:
        try:
            scope.reach(name)
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
    expanded, source_map = expand(text, path)
    sources.update(source_map.texts)
    scope = grammar_scope(expanded, manager or PACKAGES, tuple(packages))
    return list(parse(expanded, path, scope, source_map).statements)


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
