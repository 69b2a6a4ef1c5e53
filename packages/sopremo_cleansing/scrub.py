"""``scrub $in with rules { field: rule | [rule, fix-or-function, ...], ... }``: per-field rules, fixes and chains.

Each entry of the rules object is a chain applied in order to the field's value:
- a rule (``required``, ``type(int)``, ``hasPattern('re')``, ``range(a, b)``, ``containedIn([...])``,
  ``notContainedIn([...])``, ``illegalCharacters('chars')``) checks the value; ``rule ?: fix`` or a fix right
  after the rule in the chain (``default(v)``, ``removeIllegalCharacters``, ``chooseNearestBound``, ``chooseFirst``,
  ``tryCoercing``) repairs a failing value; without a fix, ``range`` chooses the nearest bound, ``type`` tries
  coercing and ``containedIn(values, v)`` / ``notContainedIn(values, v)`` use ``v`` (the original's defaults,
  sopremo_cleansing.scrub_rules.default_fix); any other failing rule, or a fix that cannot repair, drops the
  whole record;
- a function call that reads no input, such as ``lower_case()``, ``normalize_whitespaces()``, ``substring(0, 3)``,
  gets the current value as its first argument; any other expression is evaluated over the record.
Fields not listed are copied. The scrub expands to one Map per chain step, named ``<scrub>/<field>: <step>``, so
``meteor run --stats`` shows per rule how many records it dropped (its records in minus out).
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from sopremo.api import (EXPRESSION, MISSING, CompositeOperator, Constant, Expression, FieldAssignment, FunctionCall,
                         InputRef, JsonStream, Map, ObjectConstruction, PropertyError, PropertySpec, Ternary,
                         evaluate_constant, input_refs)

from . import package
from .detect_internal import Internal, contract_args, internal
from .pairs import compile_one, key_list
from .scrub_rules import Unfixable, check, default_fix, fix, label
from .vocabulary import is_descriptor

DESCRIPTOR_FUNCTIONS = ("type", "hasPattern", "range", "containedIn", "notContainedIn", "illegalCharacters",
                        "default")


def _descriptor(expr: Expression) -> dict | None:
    """The descriptor an expression denotes (a bare word or a rule/fix constructor call), else None."""
    if isinstance(expr, Constant) and is_descriptor(expr.value):
        return expr.value
    if isinstance(expr, FunctionCall) and expr.name in DESCRIPTOR_FUNCTIONS and not input_refs(expr) and \
            expr.function is package.functions.get(expr.name):
        value = evaluate_constant(expr)
        return value if is_descriptor(value) else None
    return None


def chain_steps(field: str, value: Expression) -> list[tuple]:
    """The steps of one field's chain: ``('rule', field, rule, fix | None)`` or ``('apply', field, expr, text)``.

    Raises PropertyError for a fix that follows no rule, a resolution used as a rule, or a rule written as
    ``a ?: b`` whose ``a`` is no rule or whose ``b`` is no fix.
    """
    steps: list[tuple] = []
    for item in key_list(value):
        if isinstance(item, Ternary) and item.then is None:
            rule, repair = _descriptor(item.condition), _descriptor(item.otherwise)
            if not (is_descriptor(rule, "rule") and is_descriptor(repair, "fix")):
                raise PropertyError(f"scrub: in '{field}', 'a ?: b' needs a rule and a fix", "with rules")
            steps.append(("rule", field, rule, repair))
            continue
        described = _descriptor(item)
        if is_descriptor(described, "fix"):
            if not steps or steps[-1][0] != "rule" or steps[-1][3] is not None:
                raise PropertyError(f"scrub: in '{field}', the fix {described['name']} follows no rule",
                                    "with rules")
            steps[-1] = (*steps[-1][:3], described)
        elif is_descriptor(described, "rule"):
            steps.append(("rule", field, described, None))
        elif described is not None:
            raise PropertyError(f"scrub: in '{field}', {described['name']} is no rule or fix", "with rules")
        else:
            steps.append(("apply", field, *_application(item)))
    return steps


def _application(item: Expression) -> tuple[Expression, bool]:
    """(expression, over_value): a call reading no input gets the value as first argument."""
    if isinstance(item, FunctionCall) and not input_refs(item):
        return FunctionCall(item.name, item.function, (InputRef(0), *item.args)), True
    return item, False


@package.operator
class Scrub(CompositeOperator):
    """Enforces per-field rules; out: the records passing all rules, fixed and transformed (see module doc).

    Raises PropertyError when ``with rules`` is not an object of ``field: chain`` entries.
    """

    verb = "scrub"
    doc = "scrub $in with rules { field: rule | [rule, fix-or-function, ...], ... }"
    properties = (
        PropertySpec("with rules", "rules", EXPRESSION, required=True,
                     doc="object of field: rule, rule ?: fix, or [rule, fix, function(), ...]"),
    )

    def steps(self) -> list[tuple]:
        """All chain steps in order of the rules object."""
        if not isinstance(self.rules, ObjectConstruction) or \
                not all(isinstance(e, FieldAssignment) for e in self.rules.entries):
            raise PropertyError("scrub: 'with rules' needs an object such as {age: range(0, 120)}", "with rules")
        return [step for entry in self.rules.entries for step in chain_steps(entry.name, entry.value)]

    def validate(self) -> None:
        super().validate()
        self.steps()

    def expand(self) -> list[JsonStream]:
        stream = self.inputs[0]
        for step in self.steps():
            text = label(step[2]) + (" ?: " + label(step[3]) if step[3] else "") if step[0] == "rule" else \
                step[2].name if isinstance(step[2], FunctionCall) else "expression"
            stream = internal(ScrubStep, [stream], self, f"{step[1]}: {text}", step=step).output()
        return [stream]


class ScrubStep(Internal):
    """Map: one chain step on one field; records failing a rule without a working fix are dropped."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        kind, field = self.step[0], self.step[1]
        if kind == "rule":
            rule, repair = self.step[2], self.step[3] or default_fix(self.step[2])
            udf = _rule_udf(field, check(rule), fix(repair, rule) if repair else None)
        else:
            udf = _apply_udf(field, compile_one(self.step[2]), self.step[3])
        return Map(udf=udf, **contract_args(self, inputs))


def _rule_udf(field: str, test: Any, repair: Any) -> Any:
    def scrub(records: Iterator[Any]) -> Iterable[Any]:
        for record in records:
            value = record.get(field, MISSING) if isinstance(record, dict) else MISSING
            if test(value):
                yield record
            elif repair is not None:
                try:
                    yield _set(record, field, repair(value))
                except Unfixable:
                    continue

    return scrub


def _apply_udf(field: str, function: Any, over_value: bool) -> Any:
    def apply(records: Iterator[Any]) -> Iterable[Any]:
        for record in records:
            value = record.get(field, MISSING) if isinstance(record, dict) else MISSING
            yield _set(record, field, function(value) if over_value else function(record))

    return apply


def _set(record: Any, field: str, value: Any) -> Any:
    copy = dict(record) if isinstance(record, dict) else {}
    if value is MISSING:
        copy.pop(field, None)
    else:
        copy[field] = value
    return copy
