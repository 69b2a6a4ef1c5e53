"""The Meteor AST: frozen dataclasses built by the transformer from the Lark parse tree (DESIGN.md, pipeline).

Every node carries a ``span`` (``SourceSpan``: file, line, column), excluded from equality so tests compare
shapes. Expression nodes mirror the surface syntax; the binder (meteor/binder.py) turns them into Sopremo
expressions (``sopremo.expressions.nodes``) and operators. Operator calls keep their Meteor words
(``verb``, property ``words``) exactly as written; the binder resolves them against the operator metadata.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from sopremo.quick_dataclass import dataclass


@dataclass(frozen=True)
class SourceSpan:
    """Where a construct starts in a script: ``path`` (None for text), 1-based ``line`` and ``column``."""

    path: str | None
    line: int
    column: int

    def __str__(self) -> str:
        return ":".join(str(p) for p in (self.path, self.line, self.column) if p is not None)


@dataclass(frozen=True)
class Node:
    """Base of all AST nodes; ``span`` is ignored by ``==``."""

    span: SourceSpan | None = field(default=None, compare=False, kw_only=True, repr=False)


# ---- expressions ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Literal(Node):
    """A JSON literal: str, int, float, bool or None."""
    value: Any


@dataclass(frozen=True)
class Variable(Node):
    """``$name`` (``name`` without the dollar)."""
    name: str


@dataclass(frozen=True)
class Name(Node):
    """A bare identifier: a constant, a lambda parameter or an ``fn`` parameter (``threshold``, ``PI``)."""
    name: str


@dataclass(frozen=True)
class Binary(Node):
    """``left op right`` for op in ``+ - * /`` (kind 'arith') or ``< <= > >= == !=`` (kind 'compare');
    ``op_span`` locates the operator itself (run-time errors point at it)."""
    kind: str
    op: str
    left: Node
    right: Node
    op_span: SourceSpan | None = field(default=None, compare=False, kw_only=True, repr=False)


@dataclass(frozen=True)
class Logical(Node):
    """n-ary ``and`` / ``or`` (``op`` is 'and' or 'or')."""
    op: str
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Unary(Node):
    """Prefix ``op operand``: '-', '++', '--', '!', '~', 'not'."""
    op: str
    operand: Node


@dataclass(frozen=True)
class In(Node):
    """``element in collection`` / ``element not in collection``."""
    element: Node
    collection: Node
    negate: bool = False


@dataclass(frozen=True)
class Conditional(Node):
    """``condition ? then : otherwise``; ``then`` None for Elvis ``condition ?: otherwise``."""
    condition: Node
    then: Node | None
    otherwise: Node


@dataclass(frozen=True)
class IfPostfix(Node):
    """``value if condition``."""
    value: Node
    condition: Node


@dataclass(frozen=True)
class Cast(Node):
    """``(type) operand`` or ``operand as type``."""
    operand: Node
    type_name: str


@dataclass(frozen=True)
class Field(Node):
    """``base.name`` (``safe``: ``base?.name``)."""
    base: Node
    name: str
    safe: bool = False


@dataclass(frozen=True)
class Index(Node):
    """``base[index]``."""
    base: Node
    index: Node


@dataclass(frozen=True)
class Slice(Node):
    """``base[start:end]`` (either bound may be None)."""
    base: Node
    start: Node | None
    end: Node | None


@dataclass(frozen=True)
class Projection(Node):
    """``base[*]``; the path steps applied to it afterwards apply to each element."""
    base: Node


@dataclass(frozen=True)
class Call(Node):
    """``name(args)`` or ``package:name(args)``."""
    name: str
    args: tuple[Node, ...]
    package: str | None = None


@dataclass(frozen=True)
class MethodCall(Node):
    """``base.name(args)`` == ``name(base, args)``; ``safe``: ``base?.name(args)``."""
    base: Node
    name: str
    args: tuple[Node, ...]
    safe: bool = False


@dataclass(frozen=True)
class ArrayLit(Node):
    """``[items]``."""
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Directed(Node):
    """``value desc``: a sort key with its own direction word (an element of a sort key's array, or the key)."""
    value: Node
    direction: str


@dataclass(frozen=True)
class ObjectLit(Node):
    """``{entries}`` of NamedEntry, PathEntry, CopyEntry and TagEntry."""
    entries: tuple[Node, ...]


@dataclass(frozen=True)
class NamedEntry(Node):
    """``name: value`` or ``'name': value``."""
    name: str
    value: Node


@dataclass(frozen=True)
class PathEntry(Node):
    """``$x.a.b``: a field named after the path's last segment."""
    path: Node


@dataclass(frozen=True)
class CopyEntry(Node):
    """``$x.*``: copy every field of ``source``."""
    source: Node


@dataclass(frozen=True)
class TagEntry(Node):
    """``$x.path: value`` (TagMapping)."""
    target: Node
    value: Node


@dataclass(frozen=True)
class LambdaLit(Node):
    """``fn(params) { body }``."""
    params: tuple[str, ...]
    body: Node


@dataclass(frozen=True)
class FuncRef(Node):
    """``&name`` / ``&pkg:name``."""
    name: str
    package: str | None = None


@dataclass(frozen=True)
class OpInput(Node):
    """One operator input ``[$alias in] $variable`` with its per-input properties."""
    alias: str | None
    variable: str
    props: tuple["Prop", ...] = ()


@dataclass(frozen=True)
class Prop(Node):
    """A property ``words value``; for a BINDING property, ``binds`` is the variable of ``$v = value``."""
    words: str
    value: Node
    binds: str | None = None


@dataclass(frozen=True)
class OperatorCall(Node):
    """``[package:]verb inputs properties [parallel dop]`` (also usable as an expression)."""
    verb: str
    inputs: tuple[OpInput, ...]
    props: tuple[Prop, ...]
    package: str | None = None
    dop: int | None = None


@dataclass(frozen=True)
class Read(Node):
    """``read [format] from path options``."""
    format: str | None
    path: Node
    options: tuple[Prop, ...] = ()
    package: str | None = None


@dataclass(frozen=True)
class IterateVar(Node):
    """``$name from $initial [by key]`` of an ``iterate``: ``key`` (an expression over ``$name``) marks the
    solution set of a workset iteration."""
    name: str
    initial: str
    key: Node | None = None


@dataclass(frozen=True)
class Iterate(Node):
    """``iterate vars [times N] [until unchanged | until empty $v] { statements }`` (bound by bind_iterate)."""
    variables: tuple[IterateVar, ...]
    body: tuple[Node, ...]
    times: Node | None = None
    until: str | None = None
    until_variable: str | None = None


# ---- statements -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Assign(Node):
    """``$t1, $t2 = value`` (an operator, a read, an ad-hoc array or another ``$variable``)."""
    targets: tuple[str, ...]
    value: Node


@dataclass(frozen=True)
class ConstDef(Node):
    """``name = expression`` (a constant) or ``name = fn(...) {...}`` (a function, inlined at call sites)."""
    name: str
    value: Node


@dataclass(frozen=True)
class UdfDef(Node):
    """``name = pyudf('pkg.mod:func')`` (``kind`` 'pyudf' or 'javaudf')."""
    name: str
    kind: str
    target: str


@dataclass(frozen=True)
class Using(Node):
    """``using a, b``."""
    packages: tuple[str, ...]


@dataclass(frozen=True)
class Write(Node):
    """``write [format] $variable to path options``."""
    format: str | None
    variable: str
    path: Node
    options: tuple[Prop, ...] = ()
    package: str | None = None


@dataclass(frozen=True)
class CallStatement(Node):
    """A function call used as a statement (``setWorkingDirectory('dir')``)."""
    call: Call


@dataclass(frozen=True)
class Script(Node):
    """A parsed script: its statements in order."""
    statements: tuple[Node, ...]
