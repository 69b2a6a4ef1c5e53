"""``replace $r in $in on <path> with $dict [default <expr>]`` and ``replace all`` (element-wise in an array).

The dictionary data set holds ``[key, value]`` arrays (the original's dictionaryKeyExtraction ``[0]`` and
dictionaryValueExtraction ``[1]``); the first entry of a key wins. A value without an entry becomes ``default``
(evaluated on the record) when given, else stays as it is. The original's Replace / ReplaceAll (ReplaceBase).
"""

from __future__ import annotations

from typing import Any, Iterable

from sopremo.api import (EXPRESSION, INPUT, MISSING, CoGroup, CompositeOperator, ElementaryOperator, JsonStream,
                         PropertySpec)

from . import package
from .keys import compile_expr, contract_args, key_function, path_steps, set_path
from .replace_all import dictionary_key, expand_replace_all, fallback

PROPERTIES = (
    PropertySpec("on", "path", EXPRESSION, required=True, doc="path of the value to replace ($r.field.sub)"),
    PropertySpec("with", "dictionary", INPUT, required=True, doc="data set of [key, value] arrays"),
    PropertySpec("default", "default", EXPRESSION,
                 doc="value for keys missing from the dictionary, computed from the record (default: keep)"),
)


class _ReplaceBase:
    """Validation shared by ``replace`` and ``replace all``: ``on`` must be a path of the input record."""

    def validate(self) -> None:
        super().validate()
        path_steps(self.path, "on")


@package.operator
class Replace(_ReplaceBase, ElementaryOperator):
    """Replaces the value at ``on`` of each record by its dictionary entry. In: the data set and the dictionary
    (input 1, from ``with``); out: one record per input record. PACT CoGroup on value = dictionary key."""

    verb = "replace"
    min_inputs = max_inputs = 2
    doc = "replace $r in $in on <path> with $dict [default <expr>]: look values up in a [key, value] data set"
    properties = PROPERTIES

    def to_contract(self, inputs: list[Any], ctx: Any) -> CoGroup:
        steps, otherwise = path_steps(self.path, "on"), fallback(self.default)
        value_of = compile_expr(self.path, 1)

        def replace(_key: Any, records: list[Any], entries: list[Any]) -> Iterable[Any]:
            for record in records:
                new = entries[0][1] if entries else otherwise(record, value_of(record))
                yield record if new is MISSING else set_path(record, steps, new)

        keys = (key_function(self.path), dictionary_key)
        return CoGroup(keys=keys, udf=replace, sequence_groups=True, **contract_args(self, inputs))


@package.operator
class ReplaceAll(_ReplaceBase, CompositeOperator):
    """Replaces every element of the array at ``on`` by its dictionary entry (missing/null arrays stay as
    they are; another non-array raises OperatorError). Expands to explode -> CoGroup -> regroup."""

    verb = "replace all"
    min_inputs = max_inputs = 2
    doc = "replace all $r in $in on <arrayPath> with $dict [default <expr>]: element-wise replace in an array"
    properties = PROPERTIES

    def expand(self) -> list[JsonStream]:
        return expand_replace_all(self)
