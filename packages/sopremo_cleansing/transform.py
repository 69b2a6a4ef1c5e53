"""``transform records $a, $b [where <cond>] into [entity $x [identified by <expr>] with {...}, ...]``: mapping.

The original cleansing package's schema mapping (DataTransformation over ++Spicy; also ``map entities``): source
records of several inputs become records of several target entities, one output per entity in the order of
``into``, or by name: ``$person, $company = transform records ... into [entity $company ..., entity $person
...]`` gives ``$person`` the entity ``$person`` as the original did. Semantics (the original's integration tests,
docs/cleansing.md):
- an entity *reads* the inputs its ``with`` and ``identified by`` name (its own inputs) and, through ``$y`` of
  another entity, that entity's inputs (referenced inputs). Its *source tuples* are its own inputs joined by the
  ``where`` conjuncts that only mention them (an inner join, then filtered), then each referenced input joined
  by a left outer join on the conjuncts linking it: a source record without a partner is kept, and the entities
  it cannot build are all-null records (``worksFor: $company.id`` is null);
- per source tuple, ``with`` gives the entity's fields and ``identified by`` its identity; without ``identified
  by`` the identity is the entity's first field (in written order, looking into objects, skipping arrays and
  references to other entities). The record is ``{id: <identity>, ...fields}`` (a field ``id`` of ``with``
  wins); ``$y`` denotes the record of ``$y`` built from the same source tuple (a foreign key), and ``$x`` in
  its own ``identified by`` its fields (``identified by $person.name``); references must not form a cycle;
- records of one identity are merged (with ``identified by``: records of an equal identity; without: records
  equal in all fields but arrays): arrays are sets (the original's nested relations), merged over the records,
  each element once, in canonical order; other fields take the most frequent value (ties: canonical order).
  A missing or null identity gives no record;
- ``[{f: $a.list[*].x, g: $a.list[*].y}]`` in ``with`` is one element per element of ``$a.list`` (the
  original's nested source sets): ``$a.list[*].{f: x, g: y}``.
The expansion wires elementary PACT steps (sopremo_cleansing.transform_internal): Map / Match / Cross for the
source tuples, CoGroup for the outer joins, a Map building each entity's records and a Reduce per identity
merging them.
"""

from __future__ import annotations

from sopremo.api import (EXPRESSION, OPERATORS, And, ArrayConstruction, CompositeOperator, Expression, FieldAssignment,
                         JsonStream, NestedOperator, ObjectConstruction, Operator, PropertyError, PropertySpec, Var,
                         expressions, input_refs, map_children)

from . import package
from .detect_internal import internal
from .transform_internal import (BuildEntities, FilterTuples, JoinTuples, MergeEntities, OuterJoinTuples, StartTuples,
                                 equi_key)


@package.operator
class Entity(Operator):
    """One target entity of ``transform records ... into [...]``; declares ``$x`` (no data set of its own).

    Only a value inside ``into``: the binder binds its properties in the enclosing operator's context.
    """

    verb = "entity"
    declares_variable = True
    doc = "entity $x [identified by <expr>] with {...}: a target entity, inside transform records ... into [...]"
    properties = (
        PropertySpec("identified by", "identity", EXPRESSION,
                     doc="identity of the entity (default: its first field): records of one identity are merged"),
        PropertySpec("with", "fields", EXPRESSION, required=True,
                     doc="the entity's fields over the source records; $y of another entity = its record"),
    )


def conjuncts(condition: Expression | None) -> list[Expression]:
    """The conjuncts of a where condition (``a and b`` -> [a, b]; None -> [])."""
    if condition is None:
        return []
    return list(condition.items) if isinstance(condition, And) else [condition]


def _references(expr: Expression | None) -> set[str]:
    return set() if expr is None else {node.name for node in expr.walk() if isinstance(node, Var)}


def default_identity(fields: Expression) -> tuple[str, ...] | None:
    """The path of an entity's default identity in its ``with`` object: the first field (written order, into
    nested objects) whose value is neither an array nor reads another entity; None when there is none."""
    if not isinstance(fields, ObjectConstruction):
        return None
    for entry in fields.entries:
        if not isinstance(entry, FieldAssignment) or isinstance(entry.value, ArrayConstruction) \
                or _references(entry.value):
            continue
        if isinstance(entry.value, ObjectConstruction):
            inner = default_identity(entry.value)
            if inner is not None:
                return (entry.name, *inner)
            continue
        return (entry.name,)
    return None


def iterate_projections(expr: Expression) -> Expression:
    """``[{f: $a.l[*].x, g: $a.l[*].y, h: c}]`` -> ``$a.l[*].{f: x, g: y, h: c}``: an array of one object whose
    fields project the same array is one object per element of that array (recursively)."""
    expr = map_children(expr, iterate_projections)
    if not (isinstance(expr, ArrayConstruction) and len(expr.items) == 1
            and isinstance(expr.items[0], ObjectConstruction)):
        return expr
    entries = expr.items[0].entries
    bases = {e.value.base for e in entries
             if isinstance(e, FieldAssignment) and isinstance(e.value, expressions.ArrayProjection)}
    if len(bases) != 1:
        return expr
    base = bases.pop()
    element = ObjectConstruction(tuple(
        FieldAssignment(e.name, e.value.element)
        if isinstance(e, FieldAssignment) and isinstance(e.value, expressions.ArrayProjection) else e
        for e in entries))
    return expressions.ArrayProjection(base, element)


@package.operator
class TransformRecords(CompositeOperator):
    """Schema mapping of its inputs into the entities of ``into``; out: one data set per entity (module doc).

    Raises PropertyError when ``into`` holds anything but ``entity`` values, an entity lacks ``identified by``
    or ``with``, reads no input, or entities reference each other in a cycle.
    """

    verb = "transform records"
    min_inputs, max_inputs, outputs = 1, None, None
    doc = ("transform records $a, $b ... [where <cond>] into [entity $x [identified by <expr>] with {...}, ...] "
           "(one output per entity)")
    properties = (
        PropertySpec("where", "condition", EXPRESSION, doc="join (and filter) conditions over the inputs"),
        PropertySpec("into", "entities", OPERATORS, required=True,
                     doc="[entity $x [identified by <expr>] with {...}, ...]"),
    )

    def output_count(self) -> int:
        """One output per entity of ``into``."""
        return len(self.entities or ())

    def output_names(self) -> list[str]:
        """The entity names of ``into`` in order: ``$a, $b = transform records ...`` binds by name."""
        return [item.operator.declared for item in self.entities or () if isinstance(item, NestedOperator)
                and getattr(item.operator, "declared", None)]

    def entity_ops(self) -> list[Entity]:
        """The entities of ``into`` in order; raises PropertyError for anything else."""
        ops = [item.operator for item in self.entities or () if isinstance(item, NestedOperator)]
        if not ops or len(ops) != len(self.entities) or not all(isinstance(op, Entity) for op in ops):
            raise PropertyError("'into' needs [entity $x [identified by <expr>] with {...}, ...]", "into")
        for op in ops:
            if op.fields is None:
                raise PropertyError(f"entity ${op.declared} needs 'with'", "into")
            if op.identity is None and default_identity(op.fields) is None:
                raise PropertyError(f"entity ${op.declared} needs 'identified by': no field of its 'with' can "
                                    "identify it (all are arrays or read other entities)", "into")
        return ops

    def dependencies(self) -> dict[str, list[str]]:
        """Per entity name, the entities whose records it reads, referenced ones first (topological order
        ending with the entity itself). Raises PropertyError for a cycle or a self reference in ``with``."""
        ops = {op.declared: op for op in self.entity_ops()}
        direct = {}
        for name, op in ops.items():
            if name in _references(op.fields):
                raise PropertyError(f"entity ${name} reads itself in 'with' (only 'identified by' may)", "into")
            direct[name] = sorted((_references(op.fields) | _references(op.identity)) & set(ops) - {name})
        orders: dict[str, list[str]] = {}

        def visit(name: str, path: tuple[str, ...]) -> list[str]:
            if name in path:
                raise PropertyError("entities reference each other in a cycle: "
                                    + " -> ".join("$" + n for n in (*path, name)), "into")
            if name not in orders:
                order: list[str] = []
                for dep in direct[name]:
                    order += [n for n in visit(dep, (*path, name)) if n not in order]
                orders[name] = order + [name]
            return orders[name]

        for name in ops:
            visit(name, ())
        return orders

    def entity_inputs(self, orders: dict[str, list[str]]) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
        """Per entity, ``(own, referenced)``: the sorted input indexes its own ``with`` and ``identified by``
        read, and those only the entities it references read. Raises PropertyError for an entity that reads
        no input of its own."""
        ops = {op.declared: op for op in self.entity_ops()}
        own = {name: input_refs(op.fields) | (input_refs(op.identity) if op.identity is not None else set())
               for name, op in ops.items()}
        result = {}
        for name, order in orders.items():
            if not own[name]:
                raise PropertyError(f"entity ${name} reads no input of its own", "into")
            referenced = set().union(*(own[dep] for dep in order)) - own[name]
            result[name] = (tuple(sorted(own[name])), tuple(sorted(referenced)))
        return result

    def validate(self) -> None:
        super().validate()
        self.entity_inputs(self.dependencies())

    def expand(self) -> list[JsonStream]:
        ops = self.entity_ops()
        orders = self.dependencies()
        reads = self.entity_inputs(orders)
        entities = {op.declared: op for op in ops}
        tuples: dict[tuple, JsonStream] = {}
        outputs = []
        for op in ops:
            name = op.declared
            if reads[name] not in tuples:
                tuples[reads[name]] = self._tuples(*reads[name])
            steps = [(n, iterate_projections(entities[n].fields), entities[n].identity,
                      default_identity(entities[n].fields), reads[n][0]) for n in orders[name]]
            built = internal(BuildEntities, [tuples[reads[name]]], self, f"{name}/build", arity=len(self.inputs),
                             entities=steps, names=tuple(entities))
            outputs.append(internal(MergeEntities, [built.output()], self, f"{name}/merge").output())
        return outputs

    def _tuples(self, own: tuple[int, ...], referenced: tuple[int, ...]) -> JsonStream:
        """The source tuples of an entity: its ``own`` inputs joined left to right (Match on an equality
        conjunct linking the next input to those joined so far, else Cross) and filtered by the conjuncts over
        them; then each ``referenced`` input left-outer-joined (CoGroup) on the conjuncts linking it."""
        n, all_conjuncts = len(self.inputs), conjuncts(self.condition)
        applicable = [c for c in all_conjuncts if input_refs(c) <= set(own)]
        label = "+".join(str(i) for i in own + referenced)
        stream = internal(StartTuples, [self.inputs[own[0]]], self, f"tuples{label}/{own[0]}", arity=n,
                          slot=own[0]).output()
        joined = {own[0]}
        for j in own[1:]:
            key = next((k for k in map(lambda c: equi_key(c, joined, j), applicable) if k is not None), None)
            stream = internal(JoinTuples, [stream, self.inputs[j]], self, f"tuples{label}/{j}", arity=n, slot=j,
                              keys=key).output()
            joined.add(j)
        if applicable:
            stream = internal(FilterTuples, [stream], self, f"tuples{label}/where", arity=n,
                              condition=And(tuple(applicable)) if len(applicable) > 1 else applicable[0]).output()
        for j in referenced:
            linking = [c for c in all_conjuncts if j in input_refs(c) and input_refs(c) <= joined | {j}]
            key = next((k for k in map(lambda c: equi_key(c, joined, j), linking) if k is not None), None)
            stream = internal(OuterJoinTuples, [stream, self.inputs[j]], self, f"tuples{label}/outer{j}", arity=n,
                              slot=j, keys=key, conditions=tuple(linking)).output()
            joined.add(j)
        return stream


@package.operator
class MapEntities(TransformRecords):
    """The older name of ``transform records`` (same properties and semantics)."""

    verb = "map entities"
    doc = "map entities $a, $b ... [where <cond>] into [entity $x [identified by <expr>] with {...}, ...]"

