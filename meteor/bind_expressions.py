"""Binding of Meteor AST expressions to Sopremo expression trees (sopremo/expressions/nodes.py).

Inside an operator's properties, input aliases become ``InputRef(i)``, ``around $v = ...`` variables ``Var``,
lambda parameters ``LambdaParam``, constants ``Constant``; calls resolve through the function registry (arity
checked) and ``fn`` definitions are inlined with their arguments substituted (VLDB J. 2014, sec. 5.1).
"""

from __future__ import annotations

from dataclasses import field, replace
from typing import Any

from meteor import ast
from meteor.errors import did_you_mean
from sopremo.expressions import nodes as ex
from sopremo.quick_dataclass import dataclass
from sopremo.registry import suggest

MAX_INLINE_DEPTH = 64
_PATH_STEPS = (ast.Field, ast.Index, ast.Slice, ast.Projection, ast.MethodCall)
_LOCATED = (ex.Arithmetic, ex.Comparison, ex.UnaryOp, ex.ElementIn, ex.Cast, ex.FunctionCall, ex.CopyFields,
            ex.FieldAccess, ex.ArrayIndex, ex.ArraySlice)
"""The nodes that carry their ``Origin``: those that can fail at run time or read a field."""


@dataclass(frozen=True)
class Context:
    """What names mean where an expression is bound: operator inputs, bound variables, lambda parameters,
    ``fn`` parameters being inlined (``locals``), the inlining depth, ``fields_of``: the input whose fields
    unknown bare names read (operators with ``bare_names_are_fields``; None elsewhere) and ``outer``: inside a
    nested operator, the input aliases of the enclosing operators, innermost first (``OuterRef`` levels);
    ``operator``: the Meteor verb of the operator whose property is bound (named by run-time errors)."""

    inputs: dict[str, int] = field(default_factory=dict)
    variables: frozenset[str] = frozenset()
    params: frozenset[str] = frozenset()
    locals: dict[str, ex.Expression] = field(default_factory=dict)
    depth: int = 0
    fields_of: int | None = None
    outer: tuple[dict[str, int], ...] = ()
    operator: str | None = None


class ExpressionBinder:
    """Binds expressions for a ``Binder`` (which provides scope, constants, fn definitions and errors)."""

    def __init__(self, binder: Any):
        self.b = binder

    def bind(self, node: ast.Node, ctx: Context) -> ex.Expression:
        """The Sopremo expression of ``node`` in ``ctx``; raises MeteorBindError."""
        if isinstance(node, _PATH_STEPS):
            return self._path(node, ctx)
        method = getattr(self, "_" + type(node).__name__.lower(), None)
        if method is None:
            raise self.b.error(f"{type(node).__name__} cannot be used as a value here", node)
        return method(node, ctx)

    def located(self, expr: ex.Expression, span: Any, ctx: Context) -> ex.Expression:
        """``expr`` with its ``origin`` at ``span`` (a SourceSpan) when it is a node that carries one."""
        if span is None or expr.origin is not None or not isinstance(expr, _LOCATED):
            return expr
        return replace(expr, origin=self.b.origin(span, ctx.operator))

    # ---- leaves -------------------------------------------------------------------------------------------------

    def _literal(self, node: ast.Literal, ctx: Context) -> ex.Expression:
        return ex.Constant(node.value)

    def _variable(self, node: ast.Variable, ctx: Context) -> ex.Expression:
        if node.name in ctx.inputs:
            return ex.InputRef(ctx.inputs[node.name])
        if node.name in ctx.variables:
            return ex.Var(node.name)
        for level, aliases in enumerate(ctx.outer, 1):
            if node.name in aliases:
                return ex.OuterRef(aliases[node.name], level)
        if node.name in self.b.streams:  # a side channel: the whole data set as an array
            return ex.DataSetRef(self.b.streams[node.name], node.span)
        known = [*ctx.inputs, *ctx.variables]
        close = suggest(node.name, known + list(self.b.streams))
        raise self.b.error(f"unknown variable ${node.name}{did_you_mean(['$' + c for c in close])}", node,
                           ["$" + c for c in close])

    def _name(self, node: ast.Name, ctx: Context) -> ex.Expression:
        name = node.name
        if name in ctx.locals:
            return ctx.locals[name]
        if name in ctx.params:
            return ex.LambdaParam(name)
        if name in self.b.constants:
            self.b.used_constants.add(name)
            return ex.Constant(self.b.constants[name])
        if name in self.b.scope.constants:
            return ex.Constant(self.b.scope.constants.lookup(name))
        if ctx.fields_of is not None:  # the paper's bare field names: levenshtein(name)
            return ex.FieldAccess(ex.InputRef(ctx.fields_of), name)
        if name in self.b.fn_defs or name in self.b.scope.functions:
            raise self.b.error(f"'{name}' is a function: call it as {name}(...) or pass it as &{name}", node)
        known = [*ctx.locals, *ctx.params, *self.b.constants, *self.b.scope.constants.names()]
        close = suggest(name, known)
        raise self.b.error(f"unknown constant '{name}'{did_you_mean(close)}", node, close)

    # ---- operators on values ------------------------------------------------------------------------------------

    def _binary(self, node: ast.Binary, ctx: Context) -> ex.Expression:
        kind = ex.Arithmetic if node.kind == "arith" else ex.Comparison
        expr = kind(node.op, self.bind(node.left, ctx), self.bind(node.right, ctx))
        return self.located(expr, node.op_span or node.span, ctx)

    def _logical(self, node: ast.Logical, ctx: Context) -> ex.Expression:
        items = tuple(self.bind(i, ctx) for i in node.items)
        return ex.And(items) if node.op == "and" else ex.Or(items)

    def _unary(self, node: ast.Unary, ctx: Context) -> ex.Expression:
        operand = self.bind(node.operand, ctx)
        if node.op in ("!", "not"):
            return ex.Not(operand)
        return self.located(ex.UnaryOp(node.op, operand), node.span, ctx)

    def _in(self, node: ast.In, ctx: Context) -> ex.Expression:
        expr = ex.ElementIn(self.bind(node.element, ctx), self.bind(node.collection, ctx), node.negate)
        return self.located(expr, node.span, ctx)

    def _conditional(self, node: ast.Conditional, ctx: Context) -> ex.Expression:
        then = None if node.then is None else self.bind(node.then, ctx)
        return ex.Ternary(self.bind(node.condition, ctx), then, self.bind(node.otherwise, ctx))

    def _ifpostfix(self, node: ast.IfPostfix, ctx: Context) -> ex.Expression:
        return ex.IfPostfix(self.bind(node.value, ctx), self.bind(node.condition, ctx))

    def _cast(self, node: ast.Cast, ctx: Context) -> ex.Expression:
        from sopremo.types import TYPE_NAMES

        if node.type_name.lower() not in {t.lower() for t in TYPE_NAMES}:
            close = suggest(node.type_name, list(TYPE_NAMES))
            raise self.b.error(f"unknown type '{node.type_name}'{did_you_mean(close)}", node, close)
        return self.located(ex.Cast(self.bind(node.operand, ctx), node.type_name.lower()), node.span, ctx)

    # ---- paths --------------------------------------------------------------------------------------------------

    def _path(self, node: ast.Node, ctx: Context) -> ex.Expression:
        steps = []
        while isinstance(node, _PATH_STEPS):
            steps.append(node)
            node = node.base
        base = self.bind(node, ctx)
        if isinstance(base, ex.DataSetRef) and isinstance(steps[-1], ast.Field):
            self._field_of_data_set(node, steps[-1], ctx)
        return self._apply(base, list(reversed(steps)), ctx)

    def _field_of_data_set(self, node: ast.Variable, step: ast.Field, ctx: Context) -> None:
        """``$b.x`` where ``$b`` is a data set and no input: almost always a forgotten join, so an error."""
        known = [*ctx.inputs, *ctx.variables]
        where = f"; use one of ${', $'.join(known)}" if known else ""
        raise self.b.error(f"the data set ${node.name} is not an input of this operator{where} (to read "
                           f"${node.name} whole, as an array, write ${node.name}[*].{step.name})", node)

    def _apply(self, current: ex.Expression, steps: list[ast.Node], ctx: Context) -> ex.Expression:
        for i, step in enumerate(steps):
            if isinstance(step, ast.Projection):
                return ex.ArrayProjection(current, self._apply(ex.ElementRef(), steps[i + 1:], ctx))
            current = self._step(current, step, ctx)
        return current

    def _step(self, current: ex.Expression, step: ast.Node, ctx: Context) -> ex.Expression:
        if isinstance(step, ast.Field):
            return self.located(ex.FieldAccess(current, step.name, step.safe), step.span, ctx)
        if isinstance(step, ast.Index):
            return self.located(ex.ArrayIndex(current, self.bind(step.index, ctx)), step.span, ctx)
        if isinstance(step, ast.Slice):
            start = None if step.start is None else self.bind(step.start, ctx)
            end = None if step.end is None else self.bind(step.end, ctx)
            return self.located(ex.ArraySlice(current, start, end), step.span, ctx)
        call = self.call(step.name, None, step.args, ctx, step, first=current)
        if step.safe:  # $x?.f(): a null or missing base stays as it is (only they sort <= null)
            return ex.Ternary(ex.Comparison("<=", current, ex.Constant(None)), current, call)
        return call

    # ---- construction -------------------------------------------------------------------------------------------

    def _directed(self, node: ast.Directed, ctx: Context) -> ex.Expression:
        raise self.b.error(f"'{node.direction}' gives a sort key its direction: it may only follow the key, or an "
                           f"element of the key array, of an operator property such as "
                           f"'sort $x on [$x.a desc, $x.b]'", node)

    def _arraylit(self, node: ast.ArrayLit, ctx: Context) -> ex.Expression:
        return ex.ArrayConstruction(tuple(self.bind(i, ctx) for i in node.items))

    def _objectlit(self, node: ast.ObjectLit, ctx: Context) -> ex.Expression:
        return ex.ObjectConstruction(tuple(self._entry(e, ctx) for e in node.entries))

    def _entry(self, entry: ast.Node, ctx: Context) -> ex.Expression:
        if isinstance(entry, ast.NamedEntry):
            return ex.FieldAssignment(entry.name, self.bind(entry.value, ctx))
        if isinstance(entry, ast.CopyEntry):
            return self.located(ex.CopyFields(self.bind(entry.source, ctx)), entry.span, ctx)
        if isinstance(entry, ast.TagEntry):
            return ex.TagMapping(self.bind(entry.target, ctx), self.bind(entry.value, ctx))
        last = entry.path
        name = last.name if isinstance(last, ast.Field) else self._original_name(last, ctx)
        if name is None:
            raise self.b.error("this object entry needs a name: write 'name: value'", entry)
        return ex.FieldAssignment(name, self.bind(entry.path, ctx))

    def _original_name(self, path: ast.Node, ctx: Context) -> str | None:
        """The field name the original gave an entry ``{ $x[0] }`` that ends in no field: the path as its
        expression printed itself, inputs as ``in<i>`` (``{ $jr[0] }`` in a group is field ``in0[0]``); None for a
        path it could not print (a computed index, a variable that is no input)."""
        if isinstance(path, ast.Variable):
            return f"in{ctx.inputs[path.name]}" if path.name in ctx.inputs else None
        base = self._original_name(path.base, ctx) if hasattr(path, "base") else None
        if base is None:
            return None
        if isinstance(path, ast.Field) and not path.safe:
            return f"{base}.{path.name}"
        if isinstance(path, ast.Index) and isinstance(path.index, ast.Literal) and type(path.index.value) is int:
            return f"{base}[{path.index.value}]"
        return f"{base}[*]" if isinstance(path, ast.Projection) else None

    def _lambdalit(self, node: ast.LambdaLit, ctx: Context) -> ex.Expression:
        inner = replace(ctx, params=ctx.params | frozenset(node.params),
                        locals={k: v for k, v in ctx.locals.items() if k not in node.params})
        return ex.Lambda(node.params, self.bind(node.body, inner))

    def _funcref(self, node: ast.FuncRef, ctx: Context) -> ex.Expression:
        if node.package is None and node.name in self.b.fn_defs:
            return self._lambdalit(self.b.fn_defs[node.name], Context())
        function = self._lookup(node.name, node.package, node)
        params = tuple(f"arg{i}" for i in range(max(function.min_args, 1)))
        return ex.Lambda(params, ex.FunctionCall(node.name, function, tuple(ex.LambdaParam(p) for p in params)))

    def _operatorcall(self, node: ast.OperatorCall, ctx: Context) -> ex.Expression:
        return ex.NestedOperator(self.b.operators.bind_nested(node, ctx))

    # ---- calls --------------------------------------------------------------------------------------------------

    def _call(self, node: ast.Call, ctx: Context) -> ex.Expression:
        return self.call(node.name, node.package, node.args, ctx, node)

    def call(self, name: str, package: str | None, arg_nodes: tuple, ctx: Context, node: ast.Node,
             first: ex.Expression | None = None) -> ex.Expression:
        """A call of ``name`` with ``first`` (method receiver) and ``arg_nodes``; inlines ``fn`` definitions."""
        args = ([first] if first is not None else []) + [self.bind(a, ctx) for a in arg_nodes]
        if package is None and name in ("pyudf", "javaudf"):
            raise self.b.error(f"{name}(...) defines a function: write 'f = pyudf(\"package.module:function\");'"
                               " and call f(...)", node)
        if package is None and name in self.b.fn_defs:
            return self._inline(name, self.b.fn_defs[name], args, ctx, node)
        function = self._lookup(name, package, node)
        if not function.accepts(len(args)):
            most = "any number of" if function.max_args is None else str(function.max_args)
            span = str(function.min_args) if function.min_args == function.max_args else \
                f"{function.min_args} to {most}"
            raise self.b.error(f"function '{name}' takes {span} argument(s), got {len(args)}", node)
        return self.located(ex.FunctionCall(name, function, tuple(args)), node.span, ctx)

    def _lookup(self, name: str, package: str | None, node: ast.Node):
        known = self.b.scope.functions.names() + list(self.b.fn_defs)
        return self.b.lookup("function", name, package, node, known)

    def _inline(self, name: str, definition: ast.LambdaLit, args: list, ctx: Context,
                node: ast.Node) -> ex.Expression:
        if len(args) != len(definition.params):
            raise self.b.error(f"function '{name}' takes {len(definition.params)} argument(s), got {len(args)}",
                               node)
        if ctx.depth >= MAX_INLINE_DEPTH:
            raise self.b.error(f"function '{name}' calls itself too deeply (recursion is not supported)", node)
        inner = Context(locals=dict(zip(definition.params, args)), depth=ctx.depth + 1, operator=ctx.operator)
        return self.bind(definition.body, inner)
