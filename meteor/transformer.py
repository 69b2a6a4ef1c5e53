"""A thin Lark transformer from the Meteor parse tree to the AST of meteor/ast.py (one method per rule alias)."""

from __future__ import annotations

import math
import sys
from typing import Any


from meteor import ast
from meteor.errors import MeteorSyntaxError, source_line
from meteor.lark_runtime import Token, Transformer, v_args


def _words(tokens: list[Any]) -> str:
    return " ".join(" ".join(str(t).split()) for t in tokens if isinstance(t, Token))


def _shorten(text: str, keep: int = 40) -> str:
    return text if len(text) <= keep else f"{text[:keep // 2]}...{text[-keep // 2:]}"


def _split_qualified(text: str) -> tuple[str | None, str]:
    package, _, name = text.rpartition(":")
    return (package or None), name


@v_args(meta=True, inline=True)
class MeteorTransformer(Transformer):
    """Builds AST nodes with spans; ``path`` is the script file reported in spans (None for text), ``text`` its
    text; ``source_map`` (meteor.includes.SourceMap, when the text holds included files) locates spans in the
    file they come from (errors raised here are located by the caller, meteor.parser.parse)."""

    def __init__(self, path: str | None = None, text: str = "", source_map: Any = None):
        super().__init__()
        self.path, self.text = path, text
        self.source_map = source_map if source_map is not None and source_map.has_includes else None

    def _error(self, message: str, meta: Any) -> MeteorSyntaxError:
        line, column = getattr(meta, "line", None), getattr(meta, "column", None)
        return MeteorSyntaxError(message, path=self.path, line=line, column=column,
                                 source_line=source_line(self.text, line))

    def _span(self, meta: Any) -> ast.SourceSpan | None:
        if getattr(meta, "empty", True):
            return None
        if self.source_map is not None:
            return ast.SourceSpan(*self.source_map.locate(meta.start_pos))
        return ast.SourceSpan(self.path, meta.line, meta.column)

    def _token_span(self, token: Any) -> ast.SourceSpan | None:
        """The span of a Lark token (an operator symbol), or None when it carries no position."""
        if getattr(token, "line", None) is None:
            return None
        if self.source_map is not None:
            return ast.SourceSpan(*self.source_map.locate(token.start_pos))
        return ast.SourceSpan(self.path, token.line, token.column)

    # ---- statements ---------------------------------------------------------------------------------------------

    def start(self, meta, *statements):
        return ast.Script(tuple(statements), span=self._span(meta))

    def assignment(self, meta, *items):
        *targets, value = items
        return ast.Assign(tuple(str(t)[1:] for t in targets), value, span=self._span(meta))

    def const_def(self, meta, name, value):
        return ast.ConstDef(str(name), value, span=self._span(meta))

    def udf_def(self, meta, name, kind, target):
        return ast.UdfDef(str(name), str(kind), str(target)[1:-1], span=self._span(meta))

    def using_stmt(self, meta, *names):
        return ast.Using(tuple(str(n) for n in names), span=self._span(meta))

    def write_stmt(self, meta, *items):
        fmt, variable, path, options = (None, *items) if len(items) == 3 else items
        package, name = fmt if fmt else (None, None)
        return ast.Write(name, str(variable)[1:], path, options, package, span=self._span(meta))

    def read_expr(self, meta, *items):
        fmt, path, options = (None, *items) if len(items) == 2 else items
        package, name = fmt if fmt else (None, None)
        return ast.Read(name, path, options, package, span=self._span(meta))

    def format_name(self, meta, token):
        return _split_qualified(str(token))

    def io_options(self, meta, *options):
        return tuple(options)

    def io_option(self, meta, words, value):
        return ast.Prop(words, value, span=self._span(meta))

    def call_stmt(self, meta, call):
        return ast.CallStatement(call, span=self._span(meta))

    def iterate_expr(self, meta, *items):
        variables = tuple(i for i in items if isinstance(i, ast.IterateVar))
        options = dict(i for i in items if isinstance(i, tuple))
        body = tuple(i for i in items if not isinstance(i, (ast.IterateVar, tuple)))
        return ast.Iterate(variables, body, options.get("times"), options.get("until"),
                           options.get("until_variable"), span=self._span(meta))

    def iterate_var(self, meta, variable, initial, key=None):
        return ast.IterateVar(str(variable)[1:], str(initial)[1:], key, span=self._span(meta))

    def iterate_times(self, meta, token):
        value = ast.Literal(int(str(token))) if token.type == "INT" else ast.Name(str(token))
        return ("times", value)

    def iterate_unchanged(self, meta):
        return ("until", "unchanged")

    def iterate_empty(self, meta, variable):
        return ("until_variable", str(variable)[1:])

    # ---- operators ----------------------------------------------------------------------------------------------

    def op_call(self, meta, *items):
        package, verb, inputs, props, dop = None, "", [], [], None
        for item in items:
            if isinstance(item, tuple) and item[0] == "verb":
                verb, package = item[1], item[2]
            elif isinstance(item, ast.OpInput):
                inputs.append(item)
            elif isinstance(item, ast.Prop):
                props.append(item)
            elif isinstance(item, tuple) and item[0] == "parallel":
                dop = item[1]
        return ast.OperatorCall(verb, tuple(inputs), tuple(props), package, dop, span=self._span(meta))

    def opverb(self, meta, *tokens):
        words = [t for t in tokens if t.type != "QUAL"]
        package = [str(t)[:-1] for t in tokens if t.type == "QUAL"]
        return ("verb", _words(words), package[0] if package else None)

    def op_in(self, meta):
        return ("in",)

    def propwords(self, meta, *tokens):
        return _words(list(tokens))

    def op_input(self, meta, *items):
        alias = None
        rest = list(items)
        if isinstance(rest[0], tuple) and rest[0][0] == "alias":
            alias = rest.pop(0)[1]
        variable = str(rest.pop(0))[1:]
        return ast.OpInput(alias, variable, tuple(rest), span=self._span(meta))

    def op_alias(self, meta, variable):
        return ("alias", str(variable)[1:])

    def op_prop(self, meta, words, value):
        return ast.Prop(words, value, span=self._span(meta))

    def op_directed_prop(self, meta, words, value, direction):
        span = self._span(meta)
        return ast.Prop(words, ast.Directed(value, direction, span=getattr(value, "span", None) or span), span=span)

    def op_binding(self, meta, words, variable, value):
        return ast.Prop(words, value, str(variable)[1:], span=self._span(meta))

    def parallel(self, meta, token):
        return ("parallel", int(str(token)))

    # ---- expressions --------------------------------------------------------------------------------------------

    def ternary(self, meta, condition, then, otherwise):
        return ast.Conditional(condition, then, otherwise, span=self._span(meta))

    def elvis(self, meta, condition, otherwise):
        return ast.Conditional(condition, None, otherwise, span=self._span(meta))

    def if_postfix(self, meta, value, condition):
        return ast.IfPostfix(value, condition, span=self._span(meta))

    def _logical(self, op, meta, left, right):
        items = left.items if isinstance(left, ast.Logical) and left.op == op else (left,)
        return ast.Logical(op, (*items, right), span=self._span(meta))

    def or_expr(self, meta, left, right):
        return self._logical("or", meta, left, right)

    def and_expr(self, meta, left, right):
        return self._logical("and", meta, left, right)

    def element_in(self, meta, element, collection):
        return ast.In(element, collection, False, span=self._span(meta))

    def element_not_in(self, meta, element, collection):
        return ast.In(element, collection, True, span=self._span(meta))

    def comparison(self, meta, left, op, right):
        return ast.Binary("compare", str(op), left, right, span=self._span(meta), op_span=self._token_span(op))

    def arithmetic(self, meta, left, op, right):
        return ast.Binary("arith", str(op), left, right, span=self._span(meta), op_span=self._token_span(op))

    def prefix(self, meta, op, operand):
        return ast.Unary(str(op), operand, span=self._span(meta))

    def negate(self, meta, operand):
        if isinstance(operand, ast.Literal) and type(operand.value) in (int, float):
            return ast.Literal(-operand.value, span=self._span(meta))
        return ast.Unary("-", operand, span=self._span(meta))

    def not_(self, meta, operand):
        return ast.Unary("not", operand, span=self._span(meta))

    def cast(self, meta, token, operand):
        return ast.Cast(operand, str(token).strip("() \t"), span=self._span(meta))

    def as_cast(self, meta, operand, type_name):
        return ast.Cast(operand, str(type_name), span=self._span(meta))

    def field(self, meta, base, name):
        return ast.Field(base, str(name), span=self._span(meta))

    def safe_field(self, meta, base, name):
        return ast.Field(base, str(name), True, span=self._span(meta))

    def field_name(self, meta, token):
        return str(token)

    def method(self, meta, base, name, args=None):
        return ast.MethodCall(base, str(name), tuple(args or ()), span=self._span(meta))

    def safe_method(self, meta, base, name, args=None):
        return ast.MethodCall(base, str(name), tuple(args or ()), True, span=self._span(meta))

    def index(self, meta, base, index):
        return ast.Index(base, index, span=self._span(meta))

    def slice(self, meta, base, start, end):
        return ast.Slice(base, start, end, span=self._span(meta))

    def slice_bound(self, meta, expr=None):
        return expr

    def projection(self, meta, base):
        return ast.Projection(base, span=self._span(meta))

    def variable(self, meta, token):
        return ast.Variable(str(token)[1:], span=self._span(meta))

    def name(self, meta, token):
        return ast.Name(str(token), span=self._span(meta))

    def name_ref(self, meta, token):
        return str(token)

    def name_kw(self, meta, *tokens):
        return _words(list(tokens))

    def call(self, meta, name, args=None):
        package, fname = _split_qualified(str(name))
        return ast.Call(fname, tuple(args or ()), package, span=self._span(meta))

    def args(self, meta, *items):
        return list(items)

    def directed(self, meta, value, direction):
        return ast.Directed(value, direction, span=self._span(meta))

    def direction(self, meta, token):
        return str(token)

    def array(self, meta, *items):
        return ast.ArrayLit(tuple(items), span=self._span(meta))

    def object(self, meta, *entries):
        return ast.ObjectLit(tuple(entries), span=self._span(meta))

    def named_entry(self, meta, name, value):
        text = str(name)
        if isinstance(name, Token) and name.type == "STRING":
            text = text[1:-1]
        return ast.NamedEntry(text, value, span=self._span(meta))

    def path_entry(self, meta, path):
        return ast.PathEntry(path, span=self._span(meta))

    def copy_entry(self, meta, source):
        return ast.CopyEntry(source, span=self._span(meta))

    def tag_entry(self, meta, target, value):
        return ast.TagEntry(target, value, span=self._span(meta))

    def lambda_(self, meta, *items):
        *params, body = items
        return ast.LambdaLit(tuple(str(p) for p in params), body, span=self._span(meta))

    def func_ref(self, meta, name):
        package, fname = _split_qualified(str(name))
        return ast.FuncRef(fname, package, span=self._span(meta))

    # ---- literals -----------------------------------------------------------------------------------------------

    def string(self, meta, token):
        return ast.Literal(str(token)[1:-1], span=self._span(meta))

    def int_(self, meta, token):
        digits = len(str(token).lstrip("+-"))
        if digits > sys.get_int_max_str_digits() > 0:
            raise self._error(f"integer literal of {digits} digits is too long (at most "
                              f"{sys.get_int_max_str_digits()})", meta)
        return ast.Literal(int(str(token)), span=self._span(meta))

    def decimal(self, meta, token):
        value = float(str(token))
        if math.isinf(value):
            raise self._error(f"decimal literal {_shorten(str(token))} is out of range (beyond ±1.8e308)", meta)
        return ast.Literal(value, span=self._span(meta))

    def true(self, meta):
        return ast.Literal(True, span=self._span(meta))

    def false(self, meta):
        return ast.Literal(False, span=self._span(meta))

    def null(self, meta):
        return ast.Literal(None, span=self._span(meta))
