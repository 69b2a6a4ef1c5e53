"""Stacked registries of operators, functions, constants and formats (DESIGN.md, "registry (stacked)").

A script's scope starts with the ``base`` package; ``using ie;`` pushes the names of another package on top.
Look-ups search the stack top-down; ``pkg:name`` looks in one package only, which need not be in scope: a
registry's ``resolver`` brings it in as *qualified only* (reachable as ``pkg:name``, invisible to plain names),
as the original's parser did for ``pkg:name``. Unknown names raise ``UnknownNameError`` carrying did-you-mean
suggestions.
"""

from __future__ import annotations

from typing import Any, Callable, Generic, Iterator, TypeVar

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
    import difflib  # here: only a misspelled name needs it, not every start-up

    close = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[c] for c in close]


class Registry(Generic[T]):
    """A stack of named scopes (one per package in scope, plus the script's own definitions on top)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._scopes: list[tuple[str, dict[str, T]]] = []
        self._qualified_only: set[str] = set()
        self.resolver: Callable[[str], None] | None = None  # brings a package in for a ``pkg:name`` look-up

    def push(self, scope_name: str, entries: dict[str, T], qualified_only: bool = False) -> None:
        """Put ``entries`` on top of the stack under ``scope_name`` (a package name or '' for the script);
        ``qualified_only``: at the bottom instead, found only by look-ups naming the package."""
        if qualified_only:
            self._qualified_only.add(scope_name)
            self._scopes.insert(0, (scope_name, entries))
            return
        self._qualified_only.discard(scope_name)
        self._scopes = [s for s in self._scopes if s[0] != scope_name or scope_name == ""]
        self._scopes.append((scope_name, entries))

    def _visible(self, package: str | None) -> list[tuple[str, dict[str, T]]]:
        """The scopes a look-up searches, top first: all but the qualified-only ones, or those of ``package``."""
        if package is None:
            return [s for s in reversed(self._scopes) if s[0] not in self._qualified_only]
        if self.resolver is not None and not any(name == package for name, _ in self._scopes):
            self.resolver(package)
        return [s for s in reversed(self._scopes) if s[0] == package]

    def define(self, name: str, value: T) -> None:
        """Define ``name`` in the script's own top scope (``square = fn(x) {...}``; ``threshold = 3;``)."""
        if not self._scopes or self._scopes[-1][0] != "":
            self._scopes.append(("", {}))
        self._scopes[-1][1][name] = value

    def lookup(self, name: str, package: str | None = None) -> T:
        """The entry named ``name`` (in ``package`` only when given); raises UnknownNameError (and what the
        resolver raises for a package that cannot be loaded)."""
        for _, entries in self._visible(package):
            if name in entries:
                return entries[name]
        raise UnknownNameError(self.kind, f"{package}:{name}" if package else name, suggest(name, self.names()))

    def get(self, name: str, default: Any = None) -> T | Any:
        try:
            return self.lookup(name)
        except UnknownNameError:
            return default

    def __contains__(self, name: str) -> bool:
        return any(name in entries for _, entries in self._visible(None))

    def names(self) -> list[str]:
        """All names visible without a package prefix (each once)."""
        return list(dict.fromkeys(n for _, entries in self._visible(None) for n in entries))

    def qualified_only(self, scope_name: str) -> bool:
        """Whether ``scope_name`` is reachable only as ``scope_name:name``."""
        return scope_name in self._qualified_only

    def items(self) -> Iterator[tuple[str, str, T]]:
        """(scope name, name, entry) for every entry, qualified-only scopes included, top scope first."""
        for scope_name, entries in reversed(self._scopes):
            for name, value in entries.items():
                yield scope_name, name, value

    def copy(self) -> "Registry[T]":
        other: Registry[T] = Registry(self.kind)
        other._scopes = [(n, dict(e)) for n, e in self._scopes]
        other._qualified_only = set(self._qualified_only)
        return other
