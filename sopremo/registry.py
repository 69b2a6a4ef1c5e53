"""Stacked registries of operators, functions, constants and formats (DESIGN.md, "registry (stacked)").

A script's scope starts with the ``base`` package; ``using ie;`` pushes the names of another package on top.
Look-ups search the stack top-down; ``pkg:name`` looks in one package only. Unknown names raise
``UnknownNameError`` carrying did-you-mean suggestions.
"""

from __future__ import annotations

import difflib
from typing import Any, Generic, Iterator, TypeVar

T = TypeVar("T")


class UnknownNameError(LookupError):
    """A name no registry in scope knows; ``kind`` ('operator', 'function', ...), ``name``, ``suggestions``."""

    def __init__(self, kind: str, name: str, suggestions: list[str]):
        hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"unknown {kind} {name!r}{hint}")
        self.kind, self.name, self.suggestions = kind, name, suggestions


def suggest(name: str, known: list[str] | set[str], n: int = 3) -> list[str]:
    """Up to ``n`` known names closest to ``name`` (case-insensitive difflib ratio >= 0.6)."""
    lowered = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[c] for c in close]


class Registry(Generic[T]):
    """A stack of named scopes (one per package in scope, plus the script's own definitions on top)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._scopes: list[tuple[str, dict[str, T]]] = []

    def push(self, scope_name: str, entries: dict[str, T]) -> None:
        """Put ``entries`` on top of the stack under ``scope_name`` (a package name or '' for the script)."""
        self._scopes.append((scope_name, entries))

    def define(self, name: str, value: T) -> None:
        """Define ``name`` in the script's own top scope (``square = fn(x) {...}``; ``threshold = 3;``)."""
        if not self._scopes or self._scopes[-1][0] != "":
            self._scopes.append(("", {}))
        self._scopes[-1][1][name] = value

    def lookup(self, name: str, package: str | None = None) -> T:
        """The entry named ``name`` (in ``package`` only when given); raises UnknownNameError."""
        for scope_name, entries in reversed(self._scopes):
            if package is not None and scope_name != package:
                continue
            if name in entries:
                return entries[name]
        raise UnknownNameError(self.kind, f"{package}:{name}" if package else name, suggest(name, self.names()))

    def get(self, name: str, default: Any = None) -> T | Any:
        try:
            return self.lookup(name)
        except UnknownNameError:
            return default

    def __contains__(self, name: str) -> bool:
        return any(name in entries for _, entries in self._scopes)

    def names(self) -> list[str]:
        """All visible names (each once)."""
        return list(dict.fromkeys(n for _, entries in reversed(self._scopes) for n in entries))

    def items(self) -> Iterator[tuple[str, str, T]]:
        """(scope name, name, entry) for every entry, top scope first."""
        for scope_name, entries in reversed(self._scopes):
            for name, value in entries.items():
                yield scope_name, name, value

    def copy(self) -> "Registry[T]":
        other: Registry[T] = Registry(self.kind)
        other._scopes = [(n, dict(e)) for n, e in self._scopes]
        return other
