"""The words of scrub rules, fixes and fuse resolutions: bare constants and constructor functions.

Each rule, fix or resolution is a *descriptor*, a JSON object ``{"cleansing": kind, "name": name, "args": [...]}``
(kind ``rule``, ``fix`` or ``resolution``). Bare words are package constants (``required``, ``mostFrequent``,
``chooseFirst``, ``min``, ...: a bare ``min`` is the resolution, ``min(...)`` the function); words with arguments
are functions returning a descriptor (``range(0, 120)``, ``default(0)``, ``defaultResolution('n/a')``). The
type names of ``type(int)`` are constants too. ``scrub`` and ``fuse`` read descriptors from their properties.
"""

from __future__ import annotations

import re
from typing import Any

from sopremo.api import BUILTIN_FUNCTIONS, MISSING, OperatorError, SopremoFunction, string_form

TYPE_NAMES = ("int", "long", "decimal", "double", "number", "string", "text", "boolean", "array", "object")
BARE_RULES = ("required",)
TWO_ARGUMENT_RULES = ("range", "containedIn", "notContainedIn")  # range(low, high); a list and its default
BARE_FIXES = ("removeIllegalCharacters", "chooseNearestBound", "chooseFirst", "tryCoercing")
BARE_RESOLUTIONS = ("mostFrequent", "mergeDistinct", "chooseRandom", "longest", "shortest", "min", "max")


def descriptor(kind: str, name: str, *args: Any) -> dict:
    """A rule, fix or resolution descriptor."""
    return {"cleansing": kind, "name": name, "args": list(args)}


def is_descriptor(value: Any, kind: str | None = None) -> bool:
    """Whether ``value`` is a descriptor (of ``kind`` when given)."""
    return isinstance(value, dict) and "cleansing" in value and (kind is None or value["cleansing"] == kind)


def _rule(name: str, check: Any = None) -> SopremoFunction:
    def make(*args: Any) -> dict:
        if check is not None:
            check(*args)
        return descriptor("rule", name, *args)

    return SopremoFunction(name, make, 2 if name == "range" else 1, 1 if name not in TWO_ARGUMENT_RULES else 2,
                           doc=f"scrub rule {name}(...)")


def _check_type(name: Any) -> None:
    if name not in TYPE_NAMES:
        raise OperatorError(f"type() names one of {', '.join(TYPE_NAMES)}, got {string_form(name)!r}")


def _check_pattern(pattern: Any) -> None:
    try:
        re.compile(pattern)
    except (re.error, TypeError) as error:
        raise OperatorError(f"hasPattern() needs a regular expression, got {pattern!r}: {error}") from None


def _check_list(values: Any) -> None:
    if not isinstance(values, list):
        raise OperatorError(f"containedIn()/notContainedIn() need an array of allowed values, got {values!r}")


def _check_chars(chars: Any) -> None:
    if not isinstance(chars, str):
        raise OperatorError(f"illegalCharacters() needs a string of characters, got {chars!r}")


def normalize_whitespaces(text: Any) -> Any:
    """Runs of whitespace to one space, stripped at both ends; non-text passes unchanged."""
    return " ".join(text.split()) if isinstance(text, str) else text


def _longest(pick: Any) -> Any:
    def impl(value: Any) -> Any:
        if not isinstance(value, list):
            return value
        items = [v for v in value if v is not None and v is not MISSING]
        return pick(items, key=lambda v: len(string_form(v))) if items else None
    return impl


CHAINABLE = ("lower_case", "upper_case", "trim", "camelCase", "substring", "replace", "format")


def _chainable(base: SopremoFunction) -> SopremoFunction:
    """``base`` callable without its first argument at bind time (``lower_case()`` in a scrub chain, where the
    field value becomes the first argument); called with too few arguments elsewhere, an OperatorError."""
    def impl(*args: Any) -> Any:
        if len(args) < base.min_args:
            raise OperatorError(f"{base.name}() without its first argument only works in a scrub chain")
        return base.impl(*args)

    return SopremoFunction(base.name, impl, max(0, base.min_args - 1), base.max_args, doc=base.doc)


def vocabulary_functions() -> dict[str, SopremoFunction]:
    """Rule constructors, the ``default`` fix, ``defaultResolution``, ``normalize_whitespaces``, longest/shortest."""
    functions = {
        "type": _rule("type", _check_type),
        "hasPattern": _rule("hasPattern", _check_pattern),
        "range": _rule("range"),
        "containedIn": _rule("containedIn", _check_list),
        "notContainedIn": _rule("notContainedIn", _check_list),
        "illegalCharacters": _rule("illegalCharacters", _check_chars),
        "default": SopremoFunction("default", lambda v: descriptor("fix", "default", v), 1, 1,
                                   doc="scrub fix: replace a failing value by this value"),
        "defaultResolution": SopremoFunction("defaultResolution", lambda v: descriptor("resolution", "default", v),
                                             1, 1, doc="fuse resolution: this value when a conflict remains"),
        "longest": SopremoFunction("longest", _longest(max), 1, 1,
                                   doc="longest element of an array (retain longest($p.name): the whole record)"),
        "shortest": SopremoFunction("shortest", _longest(min), 1, 1,
                                    doc="shortest element of an array (retain shortest($p.name))"),
    }

    functions.update({name: _chainable(BUILTIN_FUNCTIONS[name]) for name in CHAINABLE})
    functions["normalize_whitespaces"] = _chainable(SopremoFunction(
        "normalize_whitespaces", normalize_whitespaces, 1, 1, doc=normalize_whitespaces.__doc__))
    return functions


def vocabulary_constants() -> dict[str, Any]:
    """Bare rule, fix and resolution words and the type names of ``type(...)``."""
    constants: dict[str, Any] = {name: name for name in TYPE_NAMES}
    constants.update({name: descriptor("rule", name) for name in BARE_RULES})
    constants.update({name: descriptor("fix", name) for name in BARE_FIXES})
    constants.update({name: descriptor("resolution", name) for name in BARE_RESOLUTIONS})
    # plans of detect duplicates / link records (``with snm``) and algorithms of cluster (``using ...``)
    constants.update({name: name for name in ("naive", "blocking", "snm", "transitive_closure")})
    return constants
