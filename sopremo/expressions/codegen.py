"""Python source generation for expression nodes: one ``emit_*`` per node type, used by the compiler.

Every node becomes a Python expression string. Intermediate values are bound with ``:=`` to fresh names so that
they are evaluated once; projections and lambdas become Python ``lambda``s (closures over the inputs work for
free); subtrees nested deeper than ``SPLIT_DEPTH`` go into helper functions to stay below Python's parser limits.
Semantics follow docs/language.md ("A script", "Numbers") and ``sopremo.expressions.runtime``.
"""

from __future__ import annotations

import itertools
import re
import math
from typing import Any, Callable

from sopremo.errors import MeteorError
from sopremo.expressions import located
from sopremo.expressions import nodes as n
from sopremo.expressions import runtime as rt
from sopremo.expressions.emit_values import Code, ValueEmitters
from sopremo.expressions.aggregates import is_aggregation_call, make_fold, split_aggregation
from sopremo.function import VARIABLE
from sopremo.values import MISSING, hashable, truthy

SPLIT_DEPTH = 24
BASE_NAMESPACE: dict[str, Any] = {
    "__name__": "sopremo.expressions.generated", "MISSING": MISSING, "_NUM": rt.NUMBER_TYPES,
    "_truthy": truthy, "_hashable": hashable, "_add": rt.add, "_subtract": rt.subtract, "_multiply": rt.multiply,
    "_divide": rt.divide, "_equal": rt.equal, "_not_equal": rt.not_equal, "_less": rt.less,
    "_less_equal": rt.less_equal, "_greater": rt.greater, "_greater_equal": rt.greater_equal,
    "_negate": rt.negate, "_increment": rt.increment, "_decrement": rt.decrement, "_bitwise_not": rt.bitwise_not,
    "_element_in": rt.element_in, "_index_of": rt.index_of, "_slice_of": rt.slice_of, "_project": rt.project,
    "_copy_fields": rt.copy_fields, "_strip_missing": rt.strip_missing, "_tag_mapping_error": rt.tag_mapping_error,
    "_finite": rt.finite_result, "_MAXD": rt.MAX_DOUBLE,
}


_LEAVES = (n.Constant, n.InputRef, n.ElementRef, n.LambdaParam, n.Var)


class Generator(ValueEmitters):
    """Source generation state for one compiled expression: names in scope, constants, helper functions."""

    def __init__(self, arity: int, variables: tuple[str, ...]):
        self.namespace: dict[str, Any] = dict(BASE_NAMESPACE)
        self.inputs = tuple(f"_in{i}" for i in range(arity))
        self.variables = {name: f"_v{i}" for i, name in enumerate(variables)}
        self.elements: list[str] = []
        self.lambdas: list[dict[str, str]] = []
        self.records: dict[str, str] = {}
        self._ids = itertools.count()
        self._depth = 0
        self.sites: list[located.Site] = []  # the nodes with an Origin, by mark index
        self.spans: dict[str, list] = {}  # defined function -> where its marked nodes lie (located.strip_marks)
        self.namespace.update(_SITES=self.sites, _SPANS=self.spans)

    # ---- helpers ----------------------------------------------------------------------------------------------

    def fresh(self, prefix: str = "_t") -> str:
        """A new unique Python name."""
        return f"{prefix}{next(self._ids)}"

    def constant(self, value: Any) -> str:
        """Source for a constant: a literal for simple values, else a name bound in the namespace."""
        simple = type(value) in (bool, str) or (type(value) is int and abs(value) < 10**18)
        if value is None or simple or (type(value) is float and math.isfinite(value)):
            return repr(value)
        name = self.fresh("_c")
        self.namespace[name] = value
        return name

    def bind(self, code: str) -> tuple[str, str]:
        """(first use, later uses) of a value: the name itself, or a ``:=`` binding of a fresh name."""
        if code.isidentifier():
            return code, code
        name = self.fresh()
        return f"({name} := {code})", name

    def truth(self, code: Code) -> str:
        """Source of ``code``'s Meteor truthiness as a Python bool."""
        return code.text if code.is_bool else f"_truthy({code.text})"

    def define(self, source: str, name: str) -> Callable[..., Any]:
        """Compile ``source`` (defining ``name``; it may hold the marks of located nodes) in the namespace and
        return the function; ``function.source`` is the source as compiled."""
        clean, table = located.strip_marks(source)
        if table:
            for defined in re.findall(r"^def (\w+)\(", clean, re.MULTILINE):
                self.spans[defined] = table
        exec(compile(clean, f"<meteor expression {name}>", "exec"), self.namespace)
        function = self.namespace[name]
        function.source = clean
        return function

    def visible(self) -> list[str]:
        """All Python names an expression at this point may read (inputs, variables, elements, lambda params)."""
        names = [*self.inputs, *self.variables.values(), *self.records.values(), *self.elements]
        for scope in self.lambdas:
            names.extend(scope.values())
        return list(dict.fromkeys(names))

    # ---- dispatch ---------------------------------------------------------------------------------------------

    def emit(self, expr: n.Expression) -> Code:
        """Source for ``expr``; raises MeteorError for nodes that cannot be evaluated here."""
        method = _EMITTERS.get(type(expr))
        if method is None:
            raise MeteorError(f"cannot evaluate a {type(expr).__name__} as an expression")
        if self._depth >= SPLIT_DEPTH and not isinstance(expr, _LEAVES):
            code = self._emit_split(method, expr)
        else:
            self._depth += 1
            try:
                code = method(self, expr)
            finally:
                self._depth -= 1
        return code if expr.origin is None else self._marked(expr, code)

    def _marked(self, expr: n.Expression, code: Code) -> Code:
        """``code`` wrapped in the marks of a new site for ``expr`` (``located``: errors find the node)."""
        self.sites.append(located.Site(expr.origin, located.label(expr)))
        return Code(located.mark(code.text, len(self.sites) - 1), code.is_bool, code.maybe_missing)

    def _emit_split(self, method: Callable, expr: n.Expression) -> Code:
        """Compile a deep subtree into its own helper function taking every visible name."""
        saved, self._depth = self._depth, 0
        try:
            code = method(self, expr)
        finally:
            self._depth = saved
        params = ", ".join(self.visible())
        name = self.fresh("_sub")
        self.define(f"def {name}({params}):\n    return {code.text}\n", name)
        return Code(f"{name}({params})", code.is_bool, code.maybe_missing)

    # ---- leaves -----------------------------------------------------------------------------------------------

    def emit_constant(self, expr: n.Constant) -> Code:
        """A literal (or a namespace name for arrays, objects and odd numbers)."""
        return Code(self.constant(expr.value), type(expr.value) is bool, False)

    def emit_input(self, expr: n.InputRef) -> Code:
        """The i-th input parameter; MeteorError beyond the arity."""
        if not 0 <= expr.index < len(self.inputs):
            raise MeteorError(f"the expression reads input {expr.index}, but only {len(self.inputs)} "
                              f"input(s) are available here")
        return Code(self.inputs[expr.index])

    def emit_element(self, expr: n.ElementRef) -> Code:
        """The element of the innermost projection (a lambda parameter of ``_project``)."""
        if not self.elements:
            raise MeteorError("[*] element reference outside of an array projection")
        return Code(self.elements[-1])

    def emit_lambda_param(self, expr: n.LambdaParam) -> Code:
        """The innermost lambda parameter of that name (Python scoping does the rest)."""
        for scope in reversed(self.lambdas):
            if expr.name in scope:
                return Code(scope[expr.name])
        raise MeteorError(f"unknown function parameter {expr.name!r}")

    def emit_var(self, expr: n.Var) -> Code:
        """The positional parameter of an operator variable (``$v`` of ``around $v = ...``)."""
        if expr.name not in self.variables:
            raise MeteorError(f"unknown variable ${expr.name} in this expression")
        return Code(self.variables[expr.name])

    # ---- paths ------------------------------------------------------------------------------------------------

    def record_fields(self, source: str) -> str:
        """Name of ``source`` as a dict (an empty one when it is no object), computed once per call."""
        if source not in self.records:
            self.records[source] = f"_r{source}"
        return self.records[source]

    def emit_field(self, expr: n.FieldAccess) -> Code:
        """``base.name``: ``dict.get`` guarded by a type check; inputs and variables are checked once per call."""
        if not expr.safe and isinstance(expr.base, (n.InputRef, n.Var)):
            return Code(f"{self.record_fields(self.emit(expr.base).text)}.get({expr.name!r}, MISSING)")
        first, base = self.bind(self.emit(expr.base).text)
        other = f"({base} if {base} is None or {base} is MISSING else MISSING)" if expr.safe else "MISSING"
        return Code(f"({base}.get({expr.name!r}, MISSING) if type({first}) is dict else {other})")

    def emit_index(self, expr: n.ArrayIndex) -> Code:
        """``base[i]``: constant indexes inlined, others through ``runtime.index_of``."""
        first, base = self.bind(self.emit(expr.base).text)
        head = base if expr.safe else first
        index = expr.index.value if isinstance(expr.index, n.Constant) else None
        if type(index) is int:
            bound = f"len({base}) > {index}" if index >= 0 else f"len({base}) >= {-index}"
            text = f"({base}[{index}] if type({head}) is list and {bound} else _index_of({base}, {index}))"
        else:
            text = f"_index_of({head}, {self.emit(expr.index).text})"
        if expr.safe:
            text = f"({base} if {first} is None or {base} is MISSING else {text})"
        return Code(text)

    def emit_slice(self, expr: n.ArraySlice) -> Code:
        """``base[start:end]`` through ``runtime.slice_of``."""
        start = "None" if expr.start is None else self.emit(expr.start).text
        end = "None" if expr.end is None else self.emit(expr.end).text
        return Code(f"_slice_of({self.emit(expr.base).text}, {start}, {end})")

    def emit_projection(self, expr: n.ArrayProjection) -> Code:
        """``base[*]element`` as ``_project(base, lambda e: element)``."""
        base = self.emit(expr.base).text
        name = self.fresh("_e")
        self.elements.append(name)
        try:
            element = self.emit(expr.element).text
        finally:
            self.elements.pop()
        return Code(f"_project({base}, lambda {name}: {element})")

    # ---- construction -----------------------------------------------------------------------------------------

    def emit_array(self, expr: n.ArrayConstruction) -> Code:
        """``[a, b, ...]`` as a Python list display (missing items stay missing)."""
        return Code("[" + ", ".join(self.emit(item).text for item in expr.items) + "]", maybe_missing=False)

    def emit_object(self, expr: n.ObjectConstruction) -> Code:
        """``{...}`` as a dict display; fields that may be missing are stripped afterwards."""
        entries, maybe_missing = [], []
        for entry in expr.entries:
            if isinstance(entry, n.FieldAssignment):
                value = self.emit(entry.value)
                entries.append(f"{entry.name!r}: {value.text}")
                if value.maybe_missing:
                    maybe_missing.append(entry.name)
            elif isinstance(entry, n.CopyFields):
                entries.append(f"**_copy_fields({self.emit(entry.source).text})")
            elif isinstance(entry, n.TagMapping):
                entries.append("**_tag_mapping_error()")
            else:
                raise MeteorError(f"an object construction cannot hold a {type(entry).__name__}")
        text = "{" + ", ".join(entries) + "}"
        if maybe_missing:
            text = f"_strip_missing({text}, {tuple(dict.fromkeys(maybe_missing))!r})"
        return Code(text, maybe_missing=False)

    # ---- functions --------------------------------------------------------------------------------------------

    def emit_call(self, expr: n.FunctionCall) -> Code:
        """A function call; aggregations over projections fold per element (``aggregates``)."""
        if is_aggregation_call(expr):
            param = f"#aggregate{next(self._ids)}"
            split = split_aggregation(expr.args[0], param)
            if split is not None:
                return self._emit_aggregation(expr, split)
        impl = getattr(expr.function, "impl", expr.function)
        if not callable(impl):
            raise MeteorError(f"{expr.name!r} is not a function")
        specialize = getattr(expr.function, "specialize", None)
        if specialize is not None and any(isinstance(arg, n.Constant) for arg in expr.args):
            special = specialize(*(arg.value if isinstance(arg, n.Constant) else VARIABLE for arg in expr.args))
            if special is not None:  # the constants are bound into it once
                args = ", ".join(self.emit(arg).text for arg in expr.args if not isinstance(arg, n.Constant))
                return Code(f"{self.constant(special)}({args})")
        args = ", ".join(self.emit(arg).text for arg in expr.args)
        return Code(f"{self.constant(impl)}({args})")

    def _emit_aggregation(self, expr: n.FunctionCall, split: Any) -> Code:
        """``fold(base, lambda e: element)`` for an aggregation over projections."""
        fold = self.constant(make_fold(expr.function.aggregation, expr.name))
        base = self.emit(split.base).text
        name = self.fresh("_e")
        self.lambdas.append({split.param: name})
        try:
            element = self.emit(split.element).text
        finally:
            self.lambdas.pop()
        return Code(f"{fold}({base}, lambda {name}: {element})")

    def emit_lambda(self, expr: n.Lambda) -> Code:
        """``fn(p) { body }`` as a Python lambda (a callable value)."""
        scope = {param: self.fresh("_p") for param in expr.params}
        self.lambdas.append(scope)
        try:
            body = self.emit(expr.body).text
        finally:
            self.lambdas.pop()
        return Code(f"(lambda {', '.join(scope.values())}: {body})", maybe_missing=False)


_EMITTERS: dict[type, Callable[[Generator, Any], Code]] = {
    n.Constant: Generator.emit_constant, n.InputRef: Generator.emit_input, n.ElementRef: Generator.emit_element,
    n.LambdaParam: Generator.emit_lambda_param, n.Var: Generator.emit_var, n.FieldAccess: Generator.emit_field,
    n.ArrayIndex: Generator.emit_index, n.ArraySlice: Generator.emit_slice,
    n.ArrayProjection: Generator.emit_projection, n.Arithmetic: Generator.emit_arithmetic,
    n.Comparison: Generator.emit_comparison, n.And: Generator.emit_and, n.Or: Generator.emit_or,
    n.Not: Generator.emit_not, n.UnaryOp: Generator.emit_unary, n.ElementIn: Generator.emit_element_in,
    n.Ternary: Generator.emit_ternary, n.IfPostfix: Generator.emit_if_postfix, n.Cast: Generator.emit_cast,
    n.ArrayConstruction: Generator.emit_array, n.ObjectConstruction: Generator.emit_object,
    n.FunctionCall: Generator.emit_call, n.Lambda: Generator.emit_lambda,
}
