"""The Meteor package ``example``: the operator ``stamp $in with <expr>`` and the function ``shout(text)``.

Registered through the ``meteor.packages`` entry point ``example = "meteor_example:package"`` (pyproject.toml);
written against the public package API ``sopremo.api`` only (docs/packages.md).
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from sopremo.api import (EXPRESSION, MISSING, ElementaryOperator, Map, OperatorError, PropertySpec,
                         SopremoPackage, compile_expression, contract_args, encode_json, type_name)

package = SopremoPackage("example", doc="an example package: the operator stamp and the function shout")


@package.operator
class Stamp(ElementaryOperator):
    """Adds the field `stamp`, holding the value of the `with` expression, to every record.

    In: one data set of objects; out: each record with the field `stamp` set (an existing `stamp` field is
    overwritten; a missing value leaves the field out). A record that is not an object is an error naming it.
    One PACT Map.
    """

    verb = "stamp"
    min_inputs = max_inputs = 1
    doc = "stamp $in with <expr>: add the field 'stamp' holding the expression's value to every record"
    properties = (
        PropertySpec("with", "value", EXPRESSION, required=True,
                     doc="the value of the field 'stamp', computed from the record"),
    )

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        """One Map whose UDF copies each record with ``stamp`` set; the expression is compiled once here."""
        value_of = compile_expression(self.value, 1)

        def stamp(records: Iterator[Any]) -> Iterable[Any]:
            for record in records:
                if not isinstance(record, dict):
                    raise OperatorError(f"stamp needs objects, got the {type_name(record)} {record!r}")
                value = value_of(record)
                yield {**record, "stamp": value} if value is not MISSING else record

        return Map(udf=stamp, **contract_args(self, inputs))


@package.function(min_args=1, max_args=1, doc="the text in upper case followed by '!'; null stays null")
def shout(text: Any) -> Any:
    """``shout('hi')`` is ``'HI!'``; null and missing pass through; other values use their JSON text."""
    if text is None or text is MISSING:
        return text
    return (text if isinstance(text, str) else encode_json(text).decode("utf-8")).upper() + "!"
