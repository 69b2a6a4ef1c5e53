"""The checks and fixes of scrub rules (sopremo_cleansing.vocabulary descriptors -> Python callables).

A check ``check(value) -> bool`` says whether a field value satisfies a rule; a fix ``fix(value, rule) -> value``
repairs a failing value or raises ``Unfixable`` (the record is then dropped). Only ``required`` fails on a
missing value: the other rules hold for missing and null (nothing to check). Rules written without a fix take
the original's default fix (``default_fix``): ``range`` chooses the nearest bound, ``type`` tries coercing, and
``containedIn(values, v)`` / ``notContainedIn(values, v)`` with their optional second argument use ``v``;
other rules drop the record.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from sopremo.api import MISSING, OperatorError, cast, less

TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "int": lambda v: type(v) is int, "long": lambda v: type(v) is int,
    "decimal": lambda v: type(v) in (int, float), "double": lambda v: type(v) in (int, float),
    "number": lambda v: type(v) in (int, float), "string": lambda v: type(v) is str, "text": lambda v: type(v) is str,
    "boolean": lambda v: type(v) is bool, "array": lambda v: type(v) is list, "object": lambda v: type(v) is dict,
}
CAST_NAMES = {"long": "int", "double": "decimal", "number": "decimal", "text": "string"}


class Unfixable(Exception):
    """A fix that cannot repair the value: the record is dropped."""


def _absent(value: Any) -> bool:
    return value is MISSING or value is None


def check(rule: dict) -> Callable[[Any], bool]:
    """The check of a rule descriptor; raises OperatorError for an unknown rule."""
    name, args = rule["name"], rule["args"]
    if name == "required":
        return lambda v: not _absent(v)
    if name == "type":
        test = TYPE_CHECKS[args[0]]
        return lambda v: _absent(v) or test(v)
    if name == "hasPattern":
        pattern = re.compile(args[0])
        return lambda v: _absent(v) or (isinstance(v, str) and pattern.fullmatch(v) is not None)
    if name == "range":
        low, high = args
        return lambda v: _absent(v) or (not less(v, low) and not less(high, v))
    if name == "containedIn":
        allowed = list(args[0])
        return lambda v: _absent(v) or v in allowed
    if name == "notContainedIn":
        banned = list(args[0])
        return lambda v: _absent(v) or v not in banned
    if name == "illegalCharacters":
        chars = set(args[0])
        return lambda v: _absent(v) or not (isinstance(v, str) and chars & set(v))
    raise OperatorError(f"scrub: unknown rule {name!r}")


def default_fix(rule: dict) -> dict | None:
    """The fix a rule written without one gets (module docstring), or None: the record is dropped."""
    name, args = rule["name"], rule["args"]
    if name == "range":
        return {"cleansing": "fix", "name": "chooseNearestBound", "args": []}
    if name == "type":
        return {"cleansing": "fix", "name": "tryCoercing", "args": []}
    if name in ("containedIn", "notContainedIn") and len(args) == 2:
        return {"cleansing": "fix", "name": "default", "args": [args[1]]}
    return None


def fix(descriptor: dict, rule: dict) -> Callable[[Any], Any]:
    """The fix of ``descriptor`` for ``rule``; raises OperatorError when the fix does not fit the rule."""
    name, rule_name, args = descriptor["name"], rule["name"], rule["args"]
    if name == "default":
        value = descriptor["args"][0]
        return lambda v: value
    fits = {"removeIllegalCharacters": "illegalCharacters", "chooseNearestBound": "range",
            "chooseFirst": "containedIn", "tryCoercing": "type"}
    if fits.get(name) != rule_name:
        raise OperatorError(f"scrub: the fix {name} does not repair the rule {rule_name} "
                            f"({name} fixes {fits.get(name, 'any rule')})")
    if name == "removeIllegalCharacters":
        chars = set(args[0])
        return lambda v: "".join(c for c in v if c not in chars)
    if name == "chooseNearestBound":
        return lambda v: _nearest_bound(v, *args)
    if name == "chooseFirst":
        return lambda v: args[0][0] if args[0] else _raise()
    return _coercion(args[0])


def _raise() -> Any:
    raise Unfixable()


def _nearest_bound(value: Any, low: Any, high: Any) -> Any:
    if less(value, low):
        return low
    if less(high, value):
        return high
    raise Unfixable()


def _coercion(type_name: str) -> Callable[[Any], Any]:
    target = CAST_NAMES.get(type_name, type_name)

    def coerce(value: Any) -> Any:
        try:
            result = cast(value, target)
        except OperatorError:
            raise Unfixable() from None
        if not TYPE_CHECKS[type_name](result):
            raise Unfixable()
        return result

    return coerce


def label(descriptor: dict) -> str:
    """A short name of a rule for contract names and stats: ``range(0, 120)``, ``required``."""
    args = descriptor["args"]
    if not args:
        return descriptor["name"]
    return f"{descriptor['name']}({', '.join(repr(a) if isinstance(a, str) else str(a) for a in args)})"
