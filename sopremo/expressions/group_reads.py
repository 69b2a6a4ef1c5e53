"""Which expressions read a group array only in ways a read-only sequence serves, so its group may stay on disk.

A Reduce or CoGroup UDF declaring ``sequence_groups`` may receive a group larger than its share of the memory
budget as a ``SpilledGroup`` (``pact_backend.runtime.groups``): a sequence read back from a spill file, not a
list. The expression runtime (``sopremo.expressions.runtime``, ``aggregates.make_fold``) accepts one where
the group is read element by element: as the base of an index (``$g[0]``, ``$g[count($g) - 1]``), a slice
(``$g[2:5]``, a list), a projection (``$g[*].v``, a list of the values), a field access (missing, as on any
array), the array of ``in`` (``$x in $g``) and the one argument of an aggregation (``count($g)``,
``sum($g[*].v)``, ``sort($g[*].v)``). Anywhere else the group is a value that escapes into a result (an
output record holding the array, ``{items: $g}``; an argument of another function; a comparison), and the
UDF hands the expression a real list (the whole group in memory, as the result holds it anyway).
"""

from __future__ import annotations

from sopremo.expressions.aggregates import is_aggregation_call
from sopremo.expressions.nodes import (ArrayIndex, ArrayProjection, ArraySlice, DataSetRef, ElementIn, Expression,
                                       FieldAccess, InputRef, NestedOperator)


def reads_as_sequence(expr: Expression, index: int = 0) -> bool:
    """Whether every use of input ``index`` (``InputRef(index)``, the group array of a ``group ... into``) in
    ``expr`` is one a read-only sequence serves (see the module); False when ``expr`` holds a nested operator
    or data set reference (evaluated elsewhere, not judged here). True when the input is not read at all."""
    stack: list[tuple[Expression, Expression | None]] = [(expr, None)]
    while stack:
        node, parent = stack.pop()
        if isinstance(node, (NestedOperator, DataSetRef)):
            return False
        if isinstance(node, InputRef):
            if node.index == index and not _serves(parent, node):
                return False
            continue
        stack.extend((child, node) for child in node.children())
    return True


def _serves(parent: Expression | None, node: InputRef) -> bool:
    """Whether ``parent`` reads its child ``node`` element by element."""
    if isinstance(parent, (ArrayIndex, ArraySlice, ArrayProjection, FieldAccess)):
        return parent.base is node
    if isinstance(parent, ElementIn):
        return parent.collection is node
    return parent is not None and is_aggregation_call(parent)
