"""Errors of the Meteor front end: syntax errors (parser) and bind errors (binder), with source excerpts.

Both carry ``path``, ``line``, ``column`` (sopremo.errors.MeteorError), the ``expected`` words and did-you-mean
``suggestions``; ``str()`` shows the location, the message and the offending source line with a caret
(DESIGN.md, "Errors and data safety").
"""

from __future__ import annotations

from sopremo.errors import MeteorError, excerpt_around
from sopremo.package import PackageError


class MeteorFrontendError(MeteorError):
    """A user error found while reading a script; ``source_line`` is the text of the offending line."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 column: int | None = None, expected: list[str] | None = None,
                 suggestions: list[str] | None = None, source_line: str | None = None):
        self.expected = list(expected or [])
        self.suggestions = list(suggestions or [])
        self.source_line = source_line
        super().__init__(message, path=path, line=line, column=column)

    def format(self) -> str:
        text = super().format()
        if self.source_line is not None and self.column is not None:
            excerpt, caret = excerpt_around(self.source_line.rstrip("\n").expandtabs(1), self.column - 1)
            text += f"\n    {excerpt}\n    {' ' * caret}^"
        return text


class MeteorSyntaxError(MeteorFrontendError):
    """The script does not follow the Meteor grammar (found token, expected words, caret)."""


class MeteorBindError(MeteorFrontendError):
    """The script parses but names something unknown or configures an operator wrongly."""


def source_line(text: str, line: int | None) -> str | None:
    """Line ``line`` (1-based) of ``text``, or None."""
    if line is None:
        return None
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else None


def did_you_mean(suggestions: list[str]) -> str:
    """``'; did you mean 'a' or 'b'?'`` or '' when there is nothing to suggest."""
    if not suggestions:
        return ""
    return "; did you mean " + " or ".join(repr(s) for s in suggestions) + "?"


def plain_list(words: list[str]) -> str:
    """``a, b or c``."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def using_hint(scope, kind: str, name: str, qualified: bool = False) -> str:
    """`` (it is in package 'p': add 'using p;' before this statement)`` when an installed package that is not in
    ``scope`` (a sopremo.scope.Scope) has the operator, function or format ``name`` (``kind``: 'operators',
    'functions' or 'formats'), else ''; ``qualified`` adds `` or write p:name``."""
    manager = scope.manager
    for package in manager.available():
        if package in scope.packages:
            continue
        try:
            if name in getattr(manager.get(package), kind):
                other = f" or write {package}:{name}" if qualified else ""
                return f" (it is in package '{package}': add 'using {package};' before this statement{other})"
        except PackageError:
            continue
    return ""
