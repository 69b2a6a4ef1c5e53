"""The original cleansing package's string and number functions (its StringUDFs, NumericUDFs, CleansFunctions).

- ``concat_strings(a, b, ...)``: the arguments joined as one text (numbers and booleans as their Meteor text;
  null and missing arguments left out);
- ``remove_all_characters(text, chars)``: ``text`` without any of the characters of ``chars``;
- ``remove_all_strings(text, [s1, s2, ...])``: ``text`` with every occurrence of ``s1``, then of ``s2``, ...
  removed, in that order (``remove_all_strings('Foobar Corporation', ['Corporation', 'Corp'])`` is
  ``'Foobar '``);
- ``abs(x)``, ``diff(a, b)`` (``a - b``) and ``absDiff(a, b)`` (``|a - b|``) on numbers, ints staying ints;
- ``generateId(prefix)``: the prefix followed by a number unique within the run (sopremo.api.task_sequence).
Null and missing values pass through the one-value functions; a value of the wrong type is an OperatorError
naming the function.
"""

from __future__ import annotations

from typing import Any

from sopremo.api import MISSING, OperatorError, SopremoFunction, string_form, task_sequence, type_name


def _absent(value: Any) -> bool:
    return value is None or value is MISSING


def _wrong(function: str, wanted: str, value: Any) -> OperatorError:
    return OperatorError(f"{function}() needs {wanted}, got {type_name(value)} {string_form(value)[:40]!r}")


def concat_strings(*values: Any) -> str:
    """The arguments joined as one text; numbers and booleans as their Meteor text, null and missing left out.

    Raises OperatorError for an array or object argument."""
    parts = []
    for value in values:
        if _absent(value):
            continue
        if isinstance(value, (list, dict)):
            raise _wrong("concat_strings", "texts or numbers", value)
        parts.append(value if type(value) is str else string_form(value))
    return "".join(parts)


def remove_all_characters(text: Any, chars: Any) -> Any:
    """``text`` without any character of ``chars``; a null or missing text passes through."""
    if _absent(text):
        return text
    if type(text) is not str:
        raise _wrong("remove_all_characters", "a text", text)
    if type(chars) is not str:
        raise _wrong("remove_all_characters", "a text of characters to remove", chars)
    return text.translate({ord(c): None for c in chars})


def remove_all_strings(text: Any, removals: Any) -> Any:
    """``text`` with every occurrence of each string of ``removals`` removed, one after the other."""
    if _absent(text):
        return text
    if type(text) is not str:
        raise _wrong("remove_all_strings", "a text", text)
    if not isinstance(removals, list) or not all(type(r) is str for r in removals):
        raise _wrong("remove_all_strings", "an array of texts to remove", removals)
    for removal in removals:
        if removal:
            text = text.replace(removal, "")
    return text


def _number(function: str, value: Any) -> Any:
    if type(value) not in (int, float):
        raise _wrong(function, "a number", value)
    return value


def absolute(value: Any) -> Any:
    """``|value|`` keeping the type (an int stays an int); null and missing pass through."""
    if _absent(value):
        return value
    return abs(_number("abs", value))


def _difference(function: str, a: Any, b: Any) -> Any:
    if _absent(a) or _absent(b):
        return None
    return _number(function, a) - _number(function, b)


def diff(a: Any, b: Any) -> Any:
    """``a - b`` on numbers; null when either is null or missing."""
    return _difference("diff", a, b)


def abs_diff(a: Any, b: Any) -> Any:
    """``|a - b|`` on numbers; null when either is null or missing."""
    result = _difference("absDiff", a, b)
    return None if result is None else abs(result)


def generate_id(prefix: Any) -> str:
    """``prefix`` followed by a number no other call of generateId with this prefix returns in the run."""
    if type(prefix) is not str:
        raise _wrong("generateId", "a text prefix", prefix)
    return f"{prefix}{task_sequence(('generateId', prefix))}"


def udf_functions() -> dict[str, SopremoFunction]:
    """The functions above by Meteor name."""
    def doc(f: Any) -> str:
        return f.__doc__.split("\n")[0]

    return {
        "concat_strings": SopremoFunction("concat_strings", concat_strings, 0, None, doc=doc(concat_strings)),
        "remove_all_characters": SopremoFunction("remove_all_characters", remove_all_characters, 2, 2,
                                                 doc=doc(remove_all_characters)),
        "remove_all_strings": SopremoFunction("remove_all_strings", remove_all_strings, 2, 2,
                                              doc=doc(remove_all_strings)),
        "abs": SopremoFunction("abs", absolute, 1, 1, doc=doc(absolute)),
        "diff": SopremoFunction("diff", diff, 2, 2, doc=doc(diff)),
        "absDiff": SopremoFunction("absDiff", abs_diff, 2, 2, doc=doc(abs_diff)),
        "generateId": SopremoFunction("generateId", generate_id, 1, 1, doc=doc(generate_id)),
    }
