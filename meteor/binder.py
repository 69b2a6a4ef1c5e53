"""The binder: walks the statements of a Meteor AST and builds the SopremoPlan (VLDB J. 2014, sec. 5.1).

``$variables`` at top level name JsonStreams; constants, ``fn`` definitions and ``pyudf`` functions go into
the script's scope; ``read``/``write`` become Sources/Sinks with paths resolved against the working directory;
``using`` brings packages into scope. Expressions and operators are bound by meteor/bind_expressions.py and
meteor/bind_operators.py. Every user mistake raises MeteorBindError with file, line, column and suggestions.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import warnings
from typing import Any

from meteor import ast
from meteor.bind_expressions import Context, ExpressionBinder
from meteor.bind_operators import OperatorBinder
from meteor.errors import MeteorBindError, did_you_mean, source_line, using_hint
from meteor.udf_path import make_importable
from sopremo.errors import MeteorError, MeteorWarning
from sopremo.expressions.nodes import Origin
from sopremo.function import SopremoFunction
from sopremo.operator import JsonStream, Operator, PropertyError, SopremoPlan
from sopremo.package import PackageError
from sopremo.registry import UnknownNameError, suggest

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


class Binder:
    """Binds one script. ``scope``: a sopremo.scope.Scope; ``params``: constants that override the script's;
    ``sources``: script text per path (for error excerpts); ``workdir``: base of relative data paths."""

    def __init__(self, scope, params: dict | None = None, sources: dict | None = None,
                 workdir: str | None = None):
        self.scope = scope
        self.params = dict(params or {})
        self.constants: dict[str, Any] = dict(self.params)
        self.used_constants: set[str] = set()  # names read or overridden: a parameter no one uses is a typo
        self.fn_defs: dict[str, ast.LambdaLit] = {}
        self.streams: dict[str, JsonStream] = {}
        self.sinks: list[Operator] = []
        self.sources = dict(sources or {})
        self.workdir = workdir or os.getcwd()
        self.expressions = ExpressionBinder(self)
        self.operators = OperatorBinder(self)

    # ---- services for the expression and operator binders --------------------------------------------------------

    def error(self, message: str, node: ast.Node | None, suggestions: list[str] | None = None) -> MeteorBindError:
        """A MeteorBindError located at ``node`` (with the source line when the text is known)."""
        span = getattr(node, "span", None)
        if span is None:
            return MeteorBindError(message, suggestions=suggestions)
        text = self.sources.get(span.path)
        return MeteorBindError(message, path=span.path, line=span.line, column=span.column,
                               suggestions=suggestions, source_line=source_line(text, span.line) if text else None)

    def origin(self, span: ast.SourceSpan, statement: str | None) -> Origin:
        """The Sopremo ``Origin`` of an expression node at ``span`` inside the operator ``statement`` (its verb)."""
        text = self.sources.get(span.path)
        return Origin(span.path, span.line, span.column, statement, source_line(text, span.line) if text else None)

    def lookup(self, kind: str, name: str, package: str | None, node: ast.Node, known: list[str] | None = None):
        """The ``kind`` ('operator', 'function' or 'format') named ``name`` (``package:name`` when qualified: the
        package need not be in scope). Raises a bind error naming an unknown package, or the unknown name with
        did-you-mean suggestions (among ``known``, default the registry's names) and the package that has it."""
        registry = {"operator": self.scope.operators, "function": self.scope.functions,
                    "format": self.scope.formats}[kind]
        try:
            return registry.lookup(name, package)
        except UnknownNameError as exc:
            if exc.kind == "package":
                raise self.error(f"unknown package '{exc.name}'{did_you_mean(exc.suggestions)}", node,
                                 exc.suggestions) from None
            close = suggest(name, known) if known is not None else exc.suggestions
            hint = self._package_hint(kind, name) if package is None else ""
            raise self.error(f"unknown {kind} '{exc.name}'{did_you_mean(close)}{hint}", node, close) from None
        except PackageError as exc:
            raise self.error(str(exc), node) from None

    def _package_hint(self, kind: str, name: str) -> str:
        """`` (it is in package 'p': ...)`` when an installed package not in scope has the ``kind`` ``name``."""
        return using_hint(self.scope, kind + "s", name, qualified=True)

    def stream(self, name: str, node: ast.Node) -> JsonStream:
        """The data set ``$name``; raises a bind error suggesting the closest variables."""
        if name in self.streams:
            return self.streams[name]
        close = ["$" + c for c in suggest(name, list(self.streams))]
        raise self.error(f"unknown variable ${name}{did_you_mean(close)}", node, close)

    def constant(self, expr, node: ast.Node, what: str) -> Any:
        """The value of the bound expression ``expr`` computed now; ``what`` names it in errors."""
        from sopremo.expressions.compiler import evaluate_constant

        try:
            return evaluate_constant(expr)
        except MeteorError as exc:
            raise self.error(f"{what} needs a constant value: {exc.message}", node) from None

    # ---- statements -----------------------------------------------------------------------------------------------

    def bind_script(self, statements: list[ast.Node]) -> SopremoPlan:
        """The plan whose sinks are the script's write statements, in order."""
        for statement in statements:
            method = getattr(self, "_" + type(statement).__name__.lower())
            method(statement)
        self._warn_unused_params(statements)
        return SopremoPlan(sinks=list(self.sinks))

    def _warn_unused_params(self, statements: list[ast.Node]) -> None:
        """A MeteorWarning for every parameter the script neither reads nor overrides (a typo'd name)."""
        script = next((s.span.path for s in statements if s.span is not None and s.span.path), None)
        defined = [s.name for s in statements if isinstance(s, ast.ConstDef)]
        for name in self.params:
            if name not in self.used_constants:
                close = suggest(name, [d for d in defined if d not in self.params])
                where = f"{script}: " if script else ""
                warnings.warn(MeteorWarning(f"{where}parameter '{name}' is not used by the script"
                                            f"{did_you_mean(close)}"), stacklevel=2)

    def _using(self, node: ast.Using) -> None:
        for name in node.packages:
            try:
                self.scope.use(name)
            except PackageError as exc:
                raise self.error(str(exc), node) from None

    def _constdef(self, node: ast.ConstDef) -> None:
        if node.name in self.params:
            self.used_constants.add(node.name)
            return  # a parameter given by the caller overrides the script's definition
        value = node.value
        if isinstance(value, ast.Call) and value.package is None and value.name in ("pyudf", "javaudf"):
            self._udf(node.name, value)
        elif isinstance(value, ast.LambdaLit):
            self.fn_defs[node.name] = value
            self.constants.pop(node.name, None)
        else:
            bound = self.expressions.bind(value, Context())
            self.constants[node.name] = self.constant(bound, value, f"constant '{node.name}'")
            self.fn_defs.pop(node.name, None)

    def _udf(self, name: str, call: ast.Call) -> None:
        if call.name == "javaudf":
            raise self.error("javaudf is not available in this Python implementation: use "
                             "pyudf('package.module:function') to import a Python function", call)
        if len(call.args) != 1 or not isinstance(call.args[0], ast.Literal) or \
                not isinstance(call.args[0].value, str):
            raise self.error("pyudf takes one string: pyudf('package.module:function')", call)
        where = call.span.path if call.span is not None else None
        function = import_function(call.args[0].value, name, lambda msg: self.error(msg, call), where)
        self.scope.functions.define(name, function)
        self.fn_defs.pop(name, None)

    def _assign(self, node: ast.Assign) -> None:
        value = node.value
        if isinstance(value, ast.OperatorCall):
            op = self.operators.bind(value)
            count = op.output_count()
            if count != len(node.targets):
                raise self.error(f"operator '{value.verb}' has {count} output(s) but {len(node.targets)} "
                                 f"variable(s) are assigned", node)
            op.name = ", ".join("$" + t for t in node.targets)
            named = op.output_names()  # outputs named by the script (entity $x): matched to the targets by name
            order = ([named.index(t) for t in node.targets] if named is not None
                     and sorted(named) == sorted(node.targets) else range(count))
            for i, target in zip(order, node.targets):
                self.streams[target] = op.output(i)
            return
        if len(node.targets) != 1:
            raise self.error("only an operator with several outputs can be assigned to several variables", node)
        self.streams[node.targets[0]] = self._single(node.targets[0], value)

    def _single(self, target: str, value: ast.Node) -> JsonStream:
        if isinstance(value, ast.Variable):
            return self.stream(value.name, value)
        if isinstance(value, ast.Iterate):
            from meteor.bind_iterate import bind_iterate
            return bind_iterate(self, value, target)
        if isinstance(value, ast.Read):
            source = self._source(value)
        else:
            values = self.constant(self.expressions.bind(value, Context()), value, f"${target}")
            if not isinstance(values, list):
                raise self.error(f"${target} must be assigned an operator, a read or an array of values, "
                                 f"got {type(values).__name__}", value)
            source = self._create_io("Source", value, values=values)
        source.name = "$" + target
        return source.output(0)

    def _callstatement(self, node: ast.CallStatement) -> None:
        call = node.call
        if call.name == "setWorkingDirectory" and call.package in (None, "base"):
            if len(call.args) != 1:
                raise self.error("setWorkingDirectory takes one path", call)
            path = self.constant(self.expressions.bind(call.args[0], Context()), call, "setWorkingDirectory")
            self.workdir = self.resolve_path(path, call.args[0])
            return
        self.constant(self.expressions.bind(call, Context()), call, f"the call of '{call.name}'")

    def _write(self, node: ast.Write) -> None:
        stream = self.stream(node.variable, node)
        path, fmt = self._io_target(node)
        sink = self._create_io("Sink", node, inputs=[stream], path=path, data_format=fmt)
        self.sinks.append(sink)

    # ---- read / write ---------------------------------------------------------------------------------------------

    def _source(self, node: ast.Read) -> Operator:
        path, fmt = self._io_target(node)
        return self._create_io("Source", node, path=path, data_format=fmt)

    def _create_io(self, kind: str, node: ast.Node, **props: Any) -> Operator:
        import sopremo.io as io

        try:
            op = getattr(io, kind)(**props)
            op.source_span = node.span
            op.validate()
        except (PropertyError, MeteorError) as exc:
            raise self.error(getattr(exc, "message", str(exc)), node) from None
        return op

    def _io_target(self, node: ast.Read | ast.Write) -> tuple[str, Any]:
        raw = self.constant(self.expressions.bind(node.path, Context()), node.path, "the path")
        path = self.resolve_path(raw, node.path)
        if node.format is not None:
            fmt_cls = self.lookup("format", node.format, node.package, node)
        else:
            from sopremo.io import format_for_path, input_format_for_path

            fmt_cls = (input_format_for_path if isinstance(node, ast.Read) else format_for_path)(path)
        options = {}
        for option in node.options:
            bound = self.expressions.bind(option.value, Context())
            options[option.words] = self.constant(bound, option.value, f"option '{option.words}'")
        try:
            return path, fmt_cls(**options)
        except PropertyError as exc:
            where = next((o for o in node.options if o.words == exc.prop), node)
            raise self.error(str(exc), where) from None

    def resolve_path(self, raw: Any, node: ast.Node) -> str:
        """``raw`` as an absolute local path (``file://`` stripped) or a URI when fsspec handles its scheme."""
        if not isinstance(raw, str):
            raise self.error(f"a path must be a string, got {raw!r}", node)
        if "\0" in raw:
            raise self.error(f"a path cannot contain a NUL byte: {raw!r}", node)
        path = raw[len("file://"):] if raw.startswith("file://") else raw
        if not _SCHEME.match(path) and not os.path.isabs(path):
            base = self.workdir
            path = base.rstrip("/") + "/" + path if _SCHEME.match(base) else os.path.join(base, path)
        if (m := _SCHEME.match(path)):
            if importlib.util.find_spec("fsspec") is None:
                raise self.error(f"paths with the scheme '{m.group(1)}://' need fsspec "
                                 f"(pip install fsspec); local paths need no scheme or file://", node)
            return path
        resolved = os.path.normpath(os.path.abspath(path))
        # a trailing '/' names a directory: a sink writes part files into it (docs/distributed.md)
        return resolved + "/" if raw.endswith("/") and resolved != "/" else resolved


def import_function(target: str, name: str, fail, script_path: str | None = None) -> SopremoFunction:
    """The callable at ``'package.module:function'`` wrapped as a SopremoFunction named ``name``; the module
    is looked for next to ``script_path`` (None: in the working directory) first (meteor/udf_path.py).

    ``fail(message)`` builds the exception raised when the target is malformed or cannot be imported.
    """
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise fail(f"pyudf needs 'package.module:function', got {target!r}")
    make_importable(module_name, script_path)
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise fail(f"pyudf cannot import module {module_name!r}: {exc}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            close = suggest(part, [n for n in dir(obj) if not n.startswith("_")])
            raise fail(f"module {module_name!r} has no function {attr!r}{did_you_mean(close)}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise fail(f"{target!r} is not callable")
    return SopremoFunction(name, obj, *_arity(obj), doc=(inspect.getdoc(obj) or "").split("\n")[0])


def _arity(function) -> tuple[int, int | None]:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return 0, None
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = sum(1 for p in positional if p.default is p.empty)
    variadic = any(p.kind == p.VAR_POSITIONAL for p in parameters)
    return required, None if variadic else len(positional)
