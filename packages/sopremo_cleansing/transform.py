"""``transform records $a, $b [where <cond>] into [entity $x identified by <expr> with {...}, ...]``: mapping.

The original cleansing package's schema mapping (also ``map entities``): source records of several inputs become
records of several target entities, one output per entity in the order of ``into`` (``$person, $company =
transform records ...``). Semantics:
- each entity reads some inputs (directly, or through the entities it references); its *source tuples* are
  those inputs joined by the ``where`` conjuncts that only mention them (an inner join; an entity of one input
  sees every record of it, filtered by the conjuncts over that input);
- per source tuple, ``with`` gives the entity's fields and ``identified by`` its identity; the record is
  ``{id: <identity>, ...fields}`` (a field ``id`` of ``with`` wins); ``$y`` of another entity denotes the record
  of ``$y`` built from the same source tuple (a foreign key: ``worksFor: $company.id``), and ``$x`` in its own
  ``identified by`` its fields (``identified by $person.name``); references must not form a cycle;
- records of one entity with equal identity are fused into one (sopremo_cleansing.fuse: per field the most
  frequent value, then the first in canonical order); records whose identity is missing or null are dropped.
The expansion wires elementary PACT steps (sopremo_cleansing.transform_internal): Map / Match / Cross for the
source tuples, a Map building each entity's records and a Reduce per identity fusing them.
"""

from __future__ import annotations

from sopremo.api import (EXPRESSION, OPERATORS, And, CompositeOperator, Expression, JsonStream, NestedOperator,
                         Operator, PropertyError, PropertySpec, Var, input_refs)

from . import package
from .detect_internal import internal
from .transform_internal import BuildEntities, FilterTuples, FuseEntities, JoinTuples, StartTuples, equi_key


@package.operator
class Entity(Operator):
    """One target entity of ``transform records ... into [...]``; declares ``$x`` (no data set of its own).

    Only a value inside ``into``: the binder binds its properties in the enclosing operator's context.
    """

    verb = "entity"
    declares_variable = True
    doc = "entity $x identified by <expr> with {...}: a target entity, inside transform records ... into [...]"
    properties = (
        PropertySpec("identified by", "identity", EXPRESSION, required=True,
                     doc="identity of the entity: records with an equal identity are fused into one"),
        PropertySpec("with", "fields", EXPRESSION, required=True,
                     doc="the entity's fields over the source records; $y of another entity = its record"),
    )


def conjuncts(condition: Expression | None) -> list[Expression]:
    """The conjuncts of a where condition (``a and b`` -> [a, b]; None -> [])."""
    if condition is None:
        return []
    return list(condition.items) if isinstance(condition, And) else [condition]


def _references(expr: Expression) -> set[str]:
    return {node.name for node in expr.walk() if isinstance(node, Var)}


@package.operator
class TransformRecords(CompositeOperator):
    """Schema mapping of its inputs into the entities of ``into``; out: one data set per entity (module doc).

    Raises PropertyError when ``into`` holds anything but ``entity`` values, an entity lacks ``identified by``
    or ``with``, reads no input, or entities reference each other in a cycle.
    """

    verb = "transform records"
    min_inputs, max_inputs, outputs = 1, None, None
    doc = ("transform records $a, $b ... [where <cond>] into [entity $x identified by <expr> with {...}, ...] "
           "(one output per entity)")
    properties = (
        PropertySpec("where", "condition", EXPRESSION, doc="join (and filter) conditions over the inputs"),
        PropertySpec("into", "entities", OPERATORS, required=True,
                     doc="[entity $x identified by <expr> with {...}, ...]"),
    )

    def output_count(self) -> int:
        """One output per entity of ``into``."""
        return len(self.entities or ())

    def entity_ops(self) -> list[Entity]:
        """The entities of ``into`` in order; raises PropertyError for anything else."""
        ops = [item.operator for item in self.entities or () if isinstance(item, NestedOperator)]
        if not ops or len(ops) != len(self.entities) or not all(isinstance(op, Entity) for op in ops):
            raise PropertyError("'into' needs [entity $x identified by <expr> with {...}, ...]", "into")
        for op in ops:
            if op.identity is None or op.fields is None:
                raise PropertyError(f"entity ${op.declared} needs 'identified by' and 'with'", "into")
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

    def entity_inputs(self, orders: dict[str, list[str]]) -> dict[str, tuple[int, ...]]:
        """Per entity, the sorted input indexes it reads (with its references); raises PropertyError if none."""
        ops = {op.declared: op for op in self.entity_ops()}
        result = {}
        for name, order in orders.items():
            read = set()
            for dep in order:
                read |= input_refs(ops[dep].fields) | input_refs(ops[dep].identity)
            if not read:
                raise PropertyError(f"entity ${name} reads no input", "into")
            result[name] = tuple(sorted(read))
        return result

    def validate(self) -> None:
        super().validate()
        self.entity_inputs(self.dependencies())

    def expand(self) -> list[JsonStream]:
        ops = self.entity_ops()
        orders = self.dependencies()
        reads = self.entity_inputs(orders)
        entities = {op.declared: op for op in ops}
        tuples: dict[tuple[int, ...], JsonStream] = {}
        outputs = []
        for op in ops:
            name = op.declared
            if reads[name] not in tuples:
                tuples[reads[name]] = self._tuples(reads[name])
            built = internal(BuildEntities, [tuples[reads[name]]], self, f"{name}/build", arity=len(self.inputs),
                             entities=[(n, entities[n].fields, entities[n].identity) for n in orders[name]],
                             names=tuple(entities))
            outputs.append(internal(FuseEntities, [built.output()], self, f"{name}/fuse").output())
        return outputs

    def _tuples(self, read: tuple[int, ...]) -> JsonStream:
        """The source tuples of the inputs ``read``: joined left to right (Match on an equality conjunct
        linking the next input to those joined so far, else Cross), then filtered by the conjuncts over them."""
        n, applicable = len(self.inputs), [c for c in conjuncts(self.condition) if input_refs(c) <= set(read)]
        label = "+".join(str(i) for i in read)
        stream = internal(StartTuples, [self.inputs[read[0]]], self, f"tuples{label}/{read[0]}", arity=n,
                          slot=read[0]).output()
        joined = {read[0]}
        for j in read[1:]:
            key = next((k for k in map(lambda c: equi_key(c, joined, j), applicable) if k is not None), None)
            stream = internal(JoinTuples, [stream, self.inputs[j]], self, f"tuples{label}/{j}", arity=n, slot=j,
                              keys=key).output()
            joined.add(j)
        if applicable:
            stream = internal(FilterTuples, [stream], self, f"tuples{label}/where", arity=n,
                              condition=And(tuple(applicable)) if len(applicable) > 1 else applicable[0]).output()
        return stream


@package.operator
class MapEntities(TransformRecords):
    """The older name of ``transform records`` (same properties and semantics)."""

    verb = "map entities"
    doc = "map entities $a, $b ... [where <cond>] into [entity $x identified by <expr> with {...}, ...]"

