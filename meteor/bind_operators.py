"""Binding of Meteor operator calls to configured Sopremo operators (VLDB J. 2014, sec. 5.1 and 5.2).

The operator class is found by its verb in the scope's registry; each input alias becomes ``InputRef(i)``;
property values are coerced by ``PropertySpec.kind`` (EXPRESSION, CONSTANT, INPUTS, BINDING, INPUT, OPERATORS;
see sopremo/operator.py); ``PropertyError`` raised by the operator becomes a bind error at the property.
Class flags: ``declares_variable`` (``entity $x ...``: a new name, bound as ``Var`` in its own and its siblings'
properties) and ``bare_names_are_fields`` (unknown bare names read fields of the single input).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from meteor import ast
from meteor.bind_expressions import Context
from meteor.errors import did_you_mean
from sopremo.errors import MeteorError
from sopremo.expressions import nodes as ex
from sopremo.operator import (BINDING, CONSTANT, INPUT, INPUTS, OPERATORS, Operator, PropertyError,
                              PropertySpec)
from sopremo.registry import suggest


class OperatorBinder:
    """Creates operators for a ``Binder`` (which provides scope, streams, expression binding and errors)."""

    def __init__(self, binder: Any):
        self.b = binder

    def operator_class(self, call: ast.OperatorCall) -> type:
        """The operator class of ``call``; raises MeteorBindError with suggestions and a ``using`` hint."""
        return self.b.lookup("operator", call.verb, call.package, call)

    def bind(self, call: ast.OperatorCall, outer: Context | None = None) -> Operator:
        """A validated operator for ``call`` (``outer``: the context of an enclosing operator whose OPERATORS
        property holds it; inputs of that operator are then left to it, and validation too)."""
        cls = self.operator_class(call)
        if cls.declares_variable:
            return self._declaring(cls, call, outer)
        inputs, aliases = self._inputs(call, outer)
        ctx = Context(inputs=aliases, fields_of=0 if cls.bare_names_are_fields and len(aliases) == 1 else None,
                      operator=call.verb)
        values = self._properties(cls, call, ctx, inputs)
        return self._create(cls, call, [s for s in inputs if s is not None], values, validate=outer is None)

    def bind_nested(self, call: ast.OperatorCall, enclosing: Context) -> Operator:
        """A validated operator for ``call`` used as a value inside an expression (a nested operator).

        Its inputs are data sets of the script; inside its properties the inputs of the enclosing operators
        are ``OuterRef`` nodes (``sopremo.decorrelate`` turns them into joins). Raises MeteorBindError for an
        operator with several outputs."""
        cls = self.operator_class(call)
        if cls.declares_variable:
            return self._declaring(cls, call, enclosing)
        inputs, aliases = self._inputs(call, None)
        outer = (enclosing.inputs, *enclosing.outer) if enclosing.inputs else enclosing.outer
        values = self._properties(cls, call, Context(inputs=aliases, outer=outer, operator=call.verb), inputs)
        op = self._create(cls, call, inputs, values, validate=True)
        if op.output_count() != 1:
            raise self.b.error(f"operator '{call.verb}' has {op.output_count()} outputs; a nested operator "
                               f"needs exactly one", call)
        return op

    def _properties(self, cls: type, call: ast.OperatorCall, ctx: Context, inputs: list) -> dict[str, Any]:
        """The bound property values of ``call`` by attribute (per-input ones as tuples, one entry per input)."""
        values: dict[str, Any] = {}
        per_input: dict[str, list] = {}
        for i, inp in enumerate(call.inputs):
            for prop in inp.props:
                spec = self._spec(cls, prop)
                per_input.setdefault(spec.attr, [None] * len(call.inputs))[i] = self._value(spec, prop, ctx, inputs)
        for prop in call.props:
            spec = self._spec(cls, prop)
            if spec.attr in values:
                raise self.b.error(f"property '{prop.words}' is given twice", prop)
            values[spec.attr] = self._value(spec, prop, ctx, inputs)
            if spec.kind == BINDING:
                ctx = replace(ctx, variables=ctx.variables | {prop.binds})
        values.update({attr: tuple(v) for attr, v in per_input.items()})
        return values

    def _declaring(self, cls: type, call: ast.OperatorCall, outer: Context | None) -> Operator:
        """An operator whose ``$x`` is a new name (``entity $x identified by ...``), only a value of another
        operator's property: its properties are bound in that operator's context, where ``$x`` and the names
        its sibling values declare are ``Var`` nodes. ``op.declared`` = the name."""
        if outer is None:
            raise self.b.error(f"'{cls.verb} $name ...' declares a new name and only works as a value of another "
                               f"operator's property", call)
        if len(call.inputs) != 1 or call.inputs[0].alias is not None or call.inputs[0].props:
            raise self.b.error(f"'{cls.verb}' takes one new name, such as '{cls.verb} $x'", call)
        name = call.inputs[0].variable
        if name in outer.inputs:
            raise self.b.error(f"${name} is an input of the enclosing operator; '{cls.verb}' needs a new name",
                               call.inputs[0])
        ctx = replace(outer, variables=outer.variables | {name})
        values: dict[str, Any] = {}
        for prop in call.props:
            spec = self._spec(cls, prop)
            if spec.attr in values:
                raise self.b.error(f"property '{prop.words}' is given twice", prop)
            values[spec.attr] = self._value(spec, prop, ctx, [])
        op = self._create(cls, call, [], values, validate=False)
        op.declared = name
        return op

    def _declared_names(self, items: tuple) -> frozenset[str]:
        """The names declared by the ``declares_variable`` operator calls among ``items`` (each once)."""
        names: list[str] = []
        for item in items:
            if isinstance(item, ast.OperatorCall) and item.inputs and \
                    self.operator_class(item).declares_variable:
                if item.inputs[0].variable in names:
                    raise self.b.error(f"${item.inputs[0].variable} is declared twice", item)
                names.append(item.inputs[0].variable)
        return frozenset(names)

    def _inputs(self, call: ast.OperatorCall, outer: Context | None) -> tuple[list, dict[str, int]]:
        streams, aliases = [], {}
        for i, inp in enumerate(call.inputs):
            alias = inp.alias or inp.variable
            if alias in aliases:
                raise self.b.error(f"${alias} names two inputs of this operator; use '$a in ${inp.variable}'", inp)
            aliases[alias] = i
            if outer is not None and inp.variable in outer.inputs:
                streams.append(None)  # a nested operator over an input of the enclosing operator
            else:
                streams.append(self.b.stream(inp.variable, inp))
        return streams, aliases

    def _spec(self, cls: type, prop: ast.Prop) -> PropertySpec:
        try:
            return cls.property_spec(prop.words)
        except PropertyError:
            known = [w for spec in cls.properties for w in spec.all_words]
            close = suggest(prop.words, known)
            raise self.b.error(f"operator '{cls.verb}' has no property '{prop.words}'{did_you_mean(close)}",
                               prop, close) from None

    def _value(self, spec: PropertySpec, prop: ast.Prop, ctx: Context, inputs: list) -> Any:
        if spec.kind == BINDING:
            return (prop.binds, self.b.expressions.bind(prop.value, ctx))
        if spec.kind == INPUT:
            if not isinstance(prop.value, ast.Variable):
                raise self.b.error(f"property '{prop.words}' expects a data set such as $dict", prop.value)
            inputs.append(self.b.stream(prop.value.name, prop.value))
            return len(inputs) - 1
        if spec.kind == INPUTS:
            return self._input_indexes(prop, ctx)
        if spec.kind == OPERATORS:
            items = prop.value.items if isinstance(prop.value, ast.ArrayLit) else (prop.value,)
            ctx = replace(ctx, variables=ctx.variables | self._declared_names(items))
            return tuple(ex.NestedOperator(self.bind(item, ctx)) if isinstance(item, ast.OperatorCall)
                         else self.b.expressions.bind(item, ctx) for item in items)
        if spec.kind == CONSTANT:  # bare names are fields only where an expression over the input is wanted
            ctx = replace(ctx, fields_of=None)
        if spec.directions:
            return self._directed_key(spec, prop.value, ctx)
        bound = self.b.expressions.bind(prop.value, ctx)
        if spec.kind == CONSTANT:
            return self.b.constant(bound, prop.value, f"property '{prop.words}'")
        return bound

    def _directed_key(self, spec: PropertySpec, value: ast.Node, ctx: Context) -> ex.Expression:
        """The value of a property with directions (a sort key): ``e desc`` or ``[e1 desc, e2, ...]`` with
        ``Directed`` nodes where a direction word follows a key (anywhere deeper it is an error)."""
        words = dict(spec.directions)

        def key(node: ast.Node) -> ex.Expression:
            if not isinstance(node, ast.Directed):
                return self.b.expressions.bind(node, ctx)
            if node.direction not in words:
                raise self.b.error(f"property '{spec.words}' takes the directions "
                                   f"{', '.join(repr(w) for w in words)}, not '{node.direction}'", node)
            return ex.Directed(self.b.expressions.bind(node.value, ctx), words[node.direction])

        if isinstance(value, ast.ArrayLit):
            return ex.ArrayConstruction(tuple(key(item) for item in value.items))
        return key(value)

    def _input_indexes(self, prop: ast.Prop, ctx: Context) -> tuple[int, ...]:
        items = prop.value.items if isinstance(prop.value, ast.ArrayLit) else (prop.value,)
        indexes = []
        for item in items:
            if not isinstance(item, ast.Variable):
                raise self.b.error(f"property '{prop.words}' expects inputs such as $a or [$a, $b]", item)
            if item.name not in ctx.inputs:
                close = ["$" + c for c in suggest(item.name, list(ctx.inputs))]
                raise self.b.error(f"${item.name} is not an input of this operator{did_you_mean(close)}", item,
                                   close)
            indexes.append(ctx.inputs[item.name])
        return tuple(indexes)

    def _create(self, cls: type, call: ast.OperatorCall, inputs: list, values: dict, validate: bool) -> Operator:
        try:
            op = cls(inputs=inputs, **values)
            op.dop = self._dop(call)
            op.source_span = call.span
            if validate:
                op.validate()
        except PropertyError as exc:
            raise self.b.error(str(exc), self._prop_node(call, cls, exc.prop)) from None
        except MeteorError as exc:
            raise self.b.error(exc.message, call) from None
        return op

    def _dop(self, call: ast.OperatorCall) -> int | None:
        if call.dop is not None and call.dop < 1:
            raise self.b.error(f"parallel needs a positive degree of parallelism, got {call.dop}", call)
        return call.dop

    @staticmethod
    def _prop_node(call: ast.OperatorCall, cls: type, name: str | None) -> ast.Node:
        """The property node that ``name`` (words or attribute) refers to, else the call itself."""
        props = [*call.props, *(p for inp in call.inputs for p in inp.props)]
        for prop in props:
            spec = next((s for s in cls.properties if prop.words in s.all_words), None)
            if name is not None and (prop.words == name or (spec is not None and spec.attr == name)):
                return prop
        return call
