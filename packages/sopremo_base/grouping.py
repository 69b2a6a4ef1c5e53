"""``group $in [by <key>] into <expr>`` and the co-group of two inputs (VLDB J. 2014, Table 1; PACT Reduce/CoGroup).

Inside ``into`` the input variable is the *array of the group's records*, in input order (docs/language.md,
"Aggregations"). Without ``by`` all records form one global group; like the original (a PACT
Reduce calls its function only for groups that exist) an empty input yields no output record at all.
Algebraic aggregations in ``into`` get a combiner (sopremo_base.combine). In ``into`` the key expression (or a
part of a key array) read on the group array is the group's key: in a co-group (``dept: $ds.did`` for ``$ds in
$depts by $ds.did``, as the original's GroupingTest writes it) taken from whichever input has records, in a
one-input group the first record's (``$e.dept`` is ``$e[0].dept``); a key that is the whole record (``group $w
by $w``) is not replaced: ``$w`` in ``into`` stays the group array (``count($w)``), ``$w[0]`` is the key.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from sopremo.api import (EXPRESSION, ArrayConstruction, ArrayIndex, CoGroup, Constant, ElementaryOperator, Expression,
                         Hints, InputRef, PropertyError, PropertySpec, RecordFlow, Reduce, Var, compile_key,
                         map_children, reads_as_sequence, replace_inputs)

from . import package
from .combine import GroupCombiner
from .keys import (compile_expr, constant_key, contract_args, describe_key, kept_group_keys, key_function, per_input,
                   to_slot)


@package.operator
class Grouping(ElementaryOperator):
    """Groups records by a key and emits one ``into`` value per group; two inputs co-group by their keys.

    In: one data set (Reduce) or two (CoGroup: ``into`` sees the group of each input, ``[]`` where an input has
    no record with that key). Out: one value per group. Default ``into``: the group array (for two inputs the
    array ``[groupA, groupB]``). Raises PropertyError when only one of two inputs has a ``by``.
    """

    verb = "group"
    min_inputs, max_inputs = 1, 2
    doc = "group $in [by <key>] into <expr>; co-group: group $a in $A by k1, $b in $B by k2 into <expr>"
    properties = (
        PropertySpec("by", "keys", EXPRESSION, per_input=True,
                     doc="grouping key of the input (an array [k1, k2] for composite keys); none = one group"),
        PropertySpec("into", "projection", EXPRESSION,
                     doc="output per group; the input variable is the array of the group's records"),
    )

    def validate(self) -> None:
        super().validate()
        keys = per_input(self.keys, len(self.inputs))
        if len(keys) > len(self.inputs):
            raise PropertyError("group: more 'by' keys than inputs", "by")
        if len(self.inputs) == 2 and (keys[0] is None) != (keys[1] is None):
            raise PropertyError("group: a co-group needs a 'by' key for both inputs or for none", "by")

    def default_projection(self) -> Any:
        """``$g`` for one input, ``[$a, $b]`` for a co-group."""
        if len(self.inputs) == 2:
            return ArrayConstruction((InputRef(0), InputRef(1)))
        return InputRef(0)

    def record_flow(self) -> RecordFlow:
        """One ``into`` value per group of records with equal ``by`` keys (the default ``into``: the groups)."""
        output = self.default_projection() if self.projection is None else self.projection
        return RecordFlow.group(per_input(self.keys, len(self.inputs)), output,
                                attrs={"keys": "keys", "output": "projection"})

    def to_contract(self, inputs: list[Any], ctx: Any) -> Any:
        keys = per_input(self.keys, len(self.inputs))
        arity = len(self.inputs)
        if arity == 2:
            return self._cogroup(inputs, keys)
        into = first_record_keys(self.projection, keys[0])
        return self._reduce(inputs, keys[0], into, compile_expr(into or self.default_projection(), arity))

    def _reduce(self, inputs: list[Any], key: Any, into: Expression | None, projection: Any) -> Reduce:
        """The Reduce of a one-input group. When ``into`` reads the group only through aggregations and its
        first record, the UDF folds the group as a stream (``streams_group``: a group larger than memory is
        never held) and, when every aggregation is algebraic, a combiner pre-aggregates. Else, when ``into``
        reads the group only element by element (indexes, projections, aggregations: ``reads_as_sequence``),
        the UDF projects the group as whatever sequence the runtime hands it (``sequence_groups``: a group
        larger than its share of the memory is read back from a spill file); else as a list."""
        combiner = GroupCombiner.plan(into, key) if into is not None else None
        folder = combiner or (GroupCombiner.plan_fold(into, key) if into is not None else None)
        sequences = folder is None and into is not None and reads_as_sequence(into, 0)

        if folder is not None:
            def reduce_group(_key: Any, group: Iterable[Any]) -> Iterable[Any]:
                return folder.fold_stream(group)
        elif sequences:
            def reduce_group(_key: Any, group: Sequence[Any]) -> Iterable[Any]:
                if len(group):
                    yield projection(group)
        else:
            def reduce_group(_key: Any, group: list[Any]) -> Iterable[Any]:
                if group:
                    yield projection(list(group))

        key_of = None if key is None else describe_key(compile_key(key, key_function(key).fn), key)
        return Reduce(key=key_of, udf=reduce_group, combiner=combiner, streams_group=folder is not None,
                      sequence_groups=sequences, hints=Hints(kept_keys=kept_group_keys(into, key)),
                      **contract_args(self, inputs))

    def _cogroup(self, inputs: list[Any], keys: tuple) -> CoGroup:
        parts = key_parts(keys)
        projection, names = read_keys(self.projection or self.default_projection(), parts)
        project = compile_expr(projection, 2, names)
        values = [(compile_expr(left, 2), compile_expr(right, 2)) for left, right in parts[:len(names)]]

        as_read = (reads_as_sequence(projection, 0), reads_as_sequence(projection, 1))

        def cogroup(_key: Any, left: Sequence[Any], right: Sequence[Any]) -> Iterable[Any]:
            if len(left) or len(right):
                side = 0 if len(left) else 1
                records = (left[0], None) if len(left) else (None, right[0])
                yield project(left if as_read[0] else list(left), right if as_read[1] else list(right),
                              *(pair[side](*records) for pair in values))

        if keys[0] is None:
            key_functions = (constant_key, constant_key)
        else:
            key_functions = (key_function(keys[0]), key_function(to_slot(keys[1], 1)))
        return CoGroup(keys=key_functions, udf=cogroup, sequence_groups=any(as_read), **contract_args(self, inputs))


def first_record_keys(projection: Expression | None, key: Expression | None) -> Expression | None:
    """``projection`` of a one-input group with its key expression (or a part of a key array) read on the group
    array, ``$e.dept``, turned into that path of the group's first record, ``$e[0].dept``: the group's key."""
    if projection is None or key is None:
        return projection
    first = ArrayIndex(InputRef(0), Constant(0))
    parts = key.items if isinstance(key, ArrayConstruction) else (key,)
    # a key that is the whole record (``group $w by $w``) reads as the group array itself: never replaced
    return replace_all(projection, {part: replace_inputs(part, {0: first}) for part in parts if part != InputRef(0)})


def key_parts(keys: tuple) -> list[tuple[Expression, Expression]]:
    """The co-group key as (left, right) expression pairs: the elements of two key arrays of one length, else
    the two keys whole; none without keys."""
    left, right = keys
    if left is None or right is None:
        return []
    if isinstance(left, ArrayConstruction) and isinstance(right, ArrayConstruction) \
            and len(left.items) == len(right.items):
        return list(zip(left.items, right.items))
    return [(left, right)]


def read_keys(projection: Expression, parts: list[tuple[Expression, Expression]]) -> tuple[Expression, tuple]:
    """``projection`` with every key expression of ``parts`` read on its group array (``$ds.did``) replaced by
    a variable holding that key part of the group, and the variables' names (as many parts as are read)."""
    names = [f"__key{i}" for i in range(len(parts))]
    mapping = {expr: Var(name) for name, pair in zip(names, parts) for expr in pair}
    rewritten = replace_all(projection, mapping)
    read = [i for i, name in enumerate(names) if any(isinstance(n, Var) and n.name == name for n in rewritten.walk())]
    return rewritten, tuple(names[:max(read) + 1] if read else ())


def replace_all(expr: Expression, mapping: dict[Expression, Expression]) -> Expression:
    """``expr`` with every subexpression equal to a key of ``mapping`` replaced by its value (outermost first)."""
    if expr in mapping:
        return mapping[expr]
    return map_children(expr, lambda child: replace_all(child, mapping))
