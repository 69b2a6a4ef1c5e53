"""User-code annotations of the PACT API (VLDB J. 2014, sec. 6.2-6.3; Stratosphere's ``@ConstantFields``,
``@ConstantFieldsExcept`` and ``@OutCardBounds``): decorators that tell the optimizer which fields a UDF keeps
unchanged, how many records it emits per call, its selectivity and the fields it reads, plus the debug-mode
checker that verifies a UDF keeps its promises on every call.

    @constant_fields(0)            # field 0 of every output record equals field 0 of the input record
    @output_cardinality(1)         # exactly one output record per call
    def add_one(record): return (record[0], record[1] + 1)
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Iterable

from pact_backend.contracts import ConstantFields, Hints

ATTRIBUTE = "pact_annotations"


class AnnotationViolation(ValueError):
    """A UDF broke its annotation (found in debug mode): the message names the contract, the annotation, the
    input and the output record."""


def _annotate(name: str, value: Any) -> Callable[[Callable], Callable]:
    def decorate(fn: Callable) -> Callable:
        try:
            annotations = fn.__dict__.setdefault(ATTRIBUTE, {})
        except AttributeError:
            raise TypeError(f"cannot annotate {fn!r}: wrap it in a def or lambda first") from None
        if name == "constant_fields":
            annotations[name] = (*annotations.get(name, ()), value)
        else:
            annotations[name] = value
        return fn
    return decorate


def constant_fields(*fields: Any, input: int = 0) -> Callable[[Callable], Callable]:
    """The UDF copies ``fields`` of its input ``input`` (0, or 1 for the second input of a join, cross or
    cogroup) unchanged to the same fields of every record it emits."""
    return _annotate("constant_fields", ConstantFields(input, frozenset(fields)))


def constant_fields_except(*fields: Any, input: int = 0) -> Callable[[Callable], Callable]:
    """The UDF copies every field of input ``input`` unchanged except ``fields``."""
    return _annotate("constant_fields", ConstantFields(input, frozenset(), frozenset(fields)))


def output_cardinality(least: int, most: int | None = -1) -> Callable[[Callable], Callable]:
    """The UDF emits between ``least`` and ``most`` records per call (``most`` None: no bound; one argument:
    exactly ``least``)."""
    most = least if most == -1 else most
    if least < 0 or (most is not None and most < least):
        raise ValueError(f"bad output cardinality bounds ({least}, {most})")
    return _annotate("cardinality", (least, most))


def selectivity(value: float) -> Callable[[Callable], Callable]:
    """Expected output records per input record (or group) for the cost model."""
    if value < 0:
        raise ValueError(f"selectivity must not be negative, got {value}")
    return _annotate("selectivity", float(value))


def reads(*fields: Any) -> Callable[[Callable], Callable]:
    """The UDF reads only ``fields`` of its input (its read set: lets the optimizer move it, sec. 6.2)."""
    return _annotate("read_fields", frozenset(fields))


def hints_for(fn: Any, base: Hints | None = None, **extra: Any) -> Hints:
    """Hints from the annotations of ``fn`` on top of ``base`` (copied), then ``extra`` attributes."""
    hints = copy.copy(base) if base is not None else Hints()
    for name, value in (getattr(fn, ATTRIBUTE, None) or {}).items():
        setattr(hints, name, value)
    for name, value in extra.items():
        setattr(hints, name, value)
    return hints


def _value(record: Any, field: Any) -> Any:
    try:
        return record[field]
    except (IndexError, KeyError, TypeError):
        return _MISSING


_MISSING = object()


def _fields(record: Any) -> Iterable[Any]:
    if isinstance(record, dict):
        return record.keys()
    if isinstance(record, (tuple, list)):
        return range(len(record))
    return ()


def _check_constant(constant: ConstantFields, source: Any, out: Any, where: str) -> None:
    fields = ([f for f in _fields(source) if f not in constant.all_except] if constant.all_except is not None
              else constant.fields)
    for field in fields:
        if _value(out, field) != _value(source, field) or _value(out, field) is _MISSING:
            kind = "all fields except " + ", ".join(map(str, sorted(constant.all_except, key=str))) \
                if constant.all_except is not None else "constant field"
            raise AnnotationViolation(f"{where} breaks its annotation ({kind}; field {field!r} of input "
                                      f"{constant.input}): input {source!r} -> output {out!r}")


def checked(call: Callable[..., Iterable[Any]], hints: Hints, where: str, shape: str) -> Callable[..., list[Any]]:
    """``call`` (args -> emitted records) checking every call against ``hints``: constant fields and output
    cardinality. ``shape``: 'record' (one input record), 'pair' (left, right), 'group' (key, group) or
    'cogroup' (key, left group, right group); a group's fields are compared with its first record."""
    constants, bounds = hints.constant_fields, hints.cardinality

    def sources(args: tuple) -> list[Any]:
        if shape == "record":
            return [args[0]]
        if shape == "pair":
            return list(args)
        return [group[0] if group else None for group in args[1:]]

    def run(*args: Any) -> list[Any]:
        out = list(call(*args))
        if bounds is not None and not (bounds[0] <= len(out) and (bounds[1] is None or len(out) <= bounds[1])):
            raise AnnotationViolation(f"{where} breaks its annotation (output cardinality {bounds}): emitted "
                                      f"{len(out)} records for input {args!r}")
        inputs = sources(args)
        for constant in constants:
            source = inputs[constant.input] if constant.input < len(inputs) else None
            if source is not None:
                for record in out:
                    _check_constant(constant, source, record, where)
        return out

    run.description = getattr(call, "description", "fn")  # type: ignore[attr-defined]
    return run
