"""Text functions of CoreFunctions: camelCase extract format like length replace split substring trim indexOf ...

Regular expressions use Python's ``re`` syntax (the original used java.util.regex; the common subset is the
same); replacement strings accept Java's ``$1`` group references as well as Python's ``\\1``. Text functions pass
missing and null through unchanged and raise OperatorError on other non-text arguments
(docs/operators.md, the functions of package base).
"""

from __future__ import annotations

import functools
import re
from typing import Any, Callable

from sopremo.errors import OperatorError
from sopremo.expressions.runtime import NUMBER_TYPES, equal
from sopremo.function import VARIABLE, SopremoFunction
from sopremo.types import string_form
from sopremo.values import MISSING, type_name

_JAVA_GROUP = re.compile(r"\\(.)|\$(\d+)|\$\{(\w+)\}")


def _text(value: Any, function: str, what: str = "text") -> str:
    if type(value) is str:
        return value
    raise OperatorError(f"{function}() needs {what}, got {type_name(value)} {string_form(value)[:40]!r}")


def _int(value: Any, function: str) -> int:
    if type(value) is int:
        return value
    raise OperatorError(f"{function}() needs an int position, got {type_name(value)}")


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as error:
        raise OperatorError(f"invalid regular expression {pattern!r}: {error}") from None


def text_function(impl: Callable[..., Any]) -> Callable[..., Any]:
    """``impl`` with a missing or null first argument passed through unchanged."""

    @functools.wraps(impl)
    def wrapper(value: Any, *args: Any) -> Any:
        if value is None or value is MISSING:
            return value
        return impl(value, *args)

    return wrapper


@text_function
def camel_case(text: Any) -> str:
    """Capitalise the first letter of every whitespace-separated word and lower-case the rest."""
    return re.sub(r"\S+", lambda m: m[0][:1].upper() + m[0][1:].lower(), _text(text, "camelCase"))


@text_function
def extract(text: Any, pattern: Any, default: Any = None) -> Any:
    """First match of ``pattern``: the whole match, group 1, or an array of all groups; ``default`` if none."""
    match = _regex(_text(pattern, "extract", "a pattern")).search(_text(text, "extract"))
    if match is None:
        return default
    groups = match.groups()
    if not groups:
        return match.group(0)
    return groups[0] if len(groups) == 1 else list(groups)


def format_text(pattern: Any, *args: Any) -> str:
    """printf-style ``pattern % args``: numbers stay numbers (for %d, %.2f), everything else its string form."""
    values = tuple(a if type(a) in NUMBER_TYPES else string_form(a) for a in args)
    try:
        return _text(pattern, "format", "a format string") % values
    except (TypeError, ValueError) as error:
        raise OperatorError(f"format({pattern!r}, ...) failed: {error}") from None


@text_function
def like(text: Any, pattern: Any) -> bool:
    """Whether the whole text matches ``pattern``, a regular expression in which ``%%`` stands for ``.*``."""
    regex = _regex(_text(pattern, "like", "a pattern").replace("%%", ".*"))
    return regex.fullmatch(_text(text, "like")) is not None


def like_with(text: Any, pattern: Any) -> Callable[[Any], Any] | None:
    """``like`` specialized to a constant ``pattern`` (``text`` is ``VARIABLE``): the regular expression is
    compiled once and a text is matched straight away; same results and errors as ``like``. None for a pattern
    that is not a valid constant text (``like`` then raises per call, as written). Its ``fullmatch`` attribute
    is the compiled pattern's: on a text, like is true exactly when it matches (a batch kernel calls it)."""
    if text is not VARIABLE or type(pattern) is not str:
        return None
    try:
        fullmatch = _regex(pattern.replace("%%", ".*")).fullmatch
    except OperatorError:
        return None

    def like_pattern(value: Any) -> Any:
        if type(value) is str:
            return fullmatch(value) is not None
        if value is None or value is MISSING:
            return value
        return _text(value, "like")  # raises: not text
    like_pattern.fullmatch = fullmatch  # type: ignore[attr-defined]  # on a text: like is fullmatch's match
    return like_pattern


@text_function
def length(value: Any) -> int:
    """Number of characters of a text (elements of an array, fields of an object)."""
    if type(value) in (str, list, tuple, dict):
        return len(value)
    raise OperatorError(f"length() needs text, got {type_name(value)}")


def _java_replacement(template: str) -> Callable[[re.Match], str]:
    """A replacement function for a Java (``$1``, ``${name}``, ``\\$``) or Python (``\\1``) template."""
    if "$" not in template:
        return lambda match: match.expand(template)

    def replace(match: re.Match) -> str:
        def part(m: re.Match) -> str:
            if m.group(1) is not None:
                return m.group(1)
            return match.group(int(m.group(2)) if m.group(2) is not None else m.group(3)) or ""

        return _JAVA_GROUP.sub(part, template)

    return replace


@text_function
def replace(text: Any, pattern: Any, replacement: Any) -> str:
    """Every match of the regular expression ``pattern`` replaced by ``replacement`` (``$1`` refers to groups)."""
    regex = _regex(_text(pattern, "replace", "a pattern"))
    try:
        return regex.sub(_java_replacement(_text(replacement, "replace", "a replacement")), _text(text, "replace"))
    except (IndexError, re.error) as error:
        raise OperatorError(f"replace(): bad group reference in {replacement!r}: {error}") from None


@text_function
def split(text: Any, pattern: Any = None) -> list:
    """Tokens of ``text`` separated by ``pattern`` (default: runs of whitespace, no empty tokens).

    With a pattern, trailing empty tokens are dropped (as Java's String.split does).
    """
    text = _text(text, "split")
    if pattern is None:
        return text.split()
    regex, tokens, start = _regex(_text(pattern, "split", "a pattern")), [], 0
    for match in regex.finditer(text):
        if match.end() == 0 or match.start() == match.end() == len(text):
            continue
        tokens.append(text[start:match.start()])
        start = match.end()
    tokens.append(text[start:])
    while tokens and tokens[-1] == "":
        tokens.pop()
    return tokens


@text_function
def substring(text: Any, start: Any, end: Any = None) -> str:
    """``text[start:end]``: negative positions count from the end; ``end`` omitted = to the end of the text."""
    text = _text(text, "substring")
    return text[_int(start, "substring"):None if end is None else _int(end, "substring")]


@text_function
def trim(text: Any) -> str:
    """The text without leading and trailing whitespace."""
    return _text(text, "trim").strip()


@text_function
def index_of(value: Any, needle: Any) -> int:
    """Position of ``needle`` in a text (or of an equal element in an array); -1 if absent."""
    if type(value) is list:
        return next((i for i, item in enumerate(value) if equal(item, needle)), -1)
    return _text(value, "indexOf").find(_text(needle, "indexOf", "text to look for"))


@text_function
def lower_case(text: Any) -> str:
    """The text in lower case."""
    return _text(text, "lower_case").lower()


@text_function
def upper_case(text: Any) -> str:
    """The text in upper case."""
    return _text(text, "upper_case").upper()


def text_functions() -> dict[str, SopremoFunction]:
    """The text built-ins by Meteor name (aliases included)."""
    index = SopremoFunction("indexOf", index_of, 2, 2, doc=index_of.__doc__, deterministic=True)
    functions = [
        SopremoFunction("camelCase", camel_case, 1, 1, doc=camel_case.__doc__, deterministic=True),
        SopremoFunction("extract", extract, 2, 3, doc=extract.__doc__, deterministic=True),
        SopremoFunction("format", format_text, 1, None, doc=format_text.__doc__, deterministic=True),
        SopremoFunction("like", like, 2, 2, doc=like.__doc__, deterministic=True, specialize=like_with),
        SopremoFunction("length", length, 1, 1, doc=length.__doc__, deterministic=True),
        SopremoFunction("replace", replace, 3, 3, doc=replace.__doc__, deterministic=True),
        SopremoFunction("split", split, 1, 2, doc=split.__doc__.splitlines()[0], deterministic=True),
        SopremoFunction("substring", substring, 2, 3, doc=substring.__doc__, deterministic=True),
        SopremoFunction("trim", trim, 1, 1, doc=trim.__doc__, deterministic=True),
        SopremoFunction("lower_case", lower_case, 1, 1, doc=lower_case.__doc__, deterministic=True),
        SopremoFunction("upper_case", upper_case, 1, 1, doc=upper_case.__doc__, deterministic=True),
        index,
    ]
    result = {f.name: f for f in functions}
    result["strpos"] = index
    return result
