"""Sopremo operators: the logical nodes of a plan, carrying their own Meteor syntax as metadata.

As in the original (``@Name(verb="filter")``, ``@Property @Name(preposition="where")``), an operator class
declares its Meteor words (``verb``, possibly several words), its properties (``PropertySpec``: words, kind,
whether per input), and its input/output counts. The Meteor parser builds its grammar from this metadata and
never hard-codes operator or property names (DESIGN.md, "Operators carry their own syntax").

An operator is either **elementary** (maps to exactly one PACT contract: ``ElementaryOperator.to_contract``) or
**composite** (``CompositeOperator.expand`` wires other operators; decomposition repeats to a fixpoint).
Operators are connected through ``JsonStream`` values (an operator and one of its output indexes).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import field
from typing import TYPE_CHECKING, Any, ClassVar, Iterator

from sopremo.quick_dataclass import dataclass

if TYPE_CHECKING:
    from sopremo.flow import RecordFlow


class PropertyError(ValueError):
    """A property value an operator refuses (wrong type, unknown enum value, missing required property).

    ``prop`` names the property's Meteor words; the binder adds file/line/column and re-raises as a bind error.
    """

    def __init__(self, message: str, prop: str | None = None):
        super().__init__(message)
        self.prop = prop


# Kinds of property value, i.e. how the binder coerces what the script wrote (docs/packages.md,
# property kinds).
EXPRESSION = "expression"  # an expression tree over the operator's inputs (where, into, by, on, ...)
CONSTANT = "constant"      # evaluated once at bind time to a JSON value (window sizes, 'ASCENDING', columns)
INPUTS = "inputs"          # one input reference or an array of them -> tuple of input indexes (preserve)
BINDING = "binding"        # ``$v = <expr>``: introduces variable ``$v`` for later properties (pivot ... around)
OPERATORS = "operators"    # nested operator calls as values (``with [ group ... ]``)
INPUT = "input"            # ``with $dict``: a data set that becomes one more input; the attribute = its index


@dataclass(frozen=True)
class PropertySpec:
    """One Meteor property of an operator.

    ``words``: the property name as written (``'where'``, ``'partition on'``, ``'with window'``); may be
    empty only for a per-input property that follows the input directly (none in base). ``attr``: the Python
    attribute set on the operator. ``kind``: one of EXPRESSION, CONSTANT, INPUTS, BINDING, OPERATORS, INPUT.
    ``per_input``: written after an input (``group $e in $emps by <expr>, ...``); the operator then receives a
    tuple with one value per input (None where not given). ``choices``: allowed values of a CONSTANT (compared
    case-insensitively for strings). ``aliases``: other accepted word sequences (``direction`` for ``order``).
    ``directions``: (word, descending) pairs of words that may follow the value, or an element of an array
    value, to give that key its own order (``sort $x on [$x.a desc, $x.b]``); such keys arrive as
    ``Directed`` expression nodes.
    """

    words: str
    attr: str
    kind: str = EXPRESSION
    per_input: bool = False
    required: bool = False
    default: Any = None
    choices: tuple[Any, ...] | None = None
    aliases: tuple[str, ...] = ()
    directions: tuple[tuple[str, bool], ...] = ()
    doc: str = ""

    @property
    def all_words(self) -> tuple[str, ...]:
        """The primary word sequence followed by its aliases."""
        return (self.words, *self.aliases)


@dataclass(frozen=True, eq=False)
class JsonStream:
    """Output ``index`` of ``operator``: what a ``$variable`` of a Meteor script denotes."""

    operator: "Operator"
    index: int = 0

    def __repr__(self) -> str:
        return f"{self.operator.display_name()}#{self.index}" if self.index else self.operator.display_name()


class Operator:
    """A logical Sopremo operator configured by properties; subclasses declare their Meteor syntax.

    Class metadata: ``verb`` (Meteor name; several words allowed; '' = no Meteor syntax, internal),
    ``min_inputs``/``max_inputs`` (None = unbounded), ``outputs`` (fixed count of outputs, or None when
    ``output_count()`` derives it from properties), ``properties`` (PropertySpec tuple), ``doc``.
    Binder flags: ``declares_variable`` (the ``$x`` after the verb is a new name, not a data set: the operator
    is only a value inside another operator's property, e.g. ``entity $x identified by ...`` inside ``transform
    records``; the binder stores the name in ``declared`` and binds the sibling values' names as ``Var``);
    ``bare_names_are_fields`` (an unknown bare identifier in a property reads that field of the single input:
    ``levenshtein(name)`` = ``levenshtein($p.name)``; constants and lambda parameters still win).

    Instance state: ``inputs`` (list of ``JsonStream``), one attribute per property (defaults from the specs),
    ``dop`` (degree-of-parallelism hint from ``parallel N``, None = executor default), ``source_span`` (file,
    line, column of the Meteor call, for errors).
    """

    verb: ClassVar[str] = ""
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1
    outputs: ClassVar[int | None] = 1
    properties: ClassVar[tuple[PropertySpec, ...]] = ()
    doc: ClassVar[str] = ""
    package: ClassVar[str] = ""  # set by SopremoPackage.register
    declares_variable: ClassVar[bool] = False
    bare_names_are_fields: ClassVar[bool] = False

    def __init__(self, inputs: list[JsonStream] | None = None, **props: Any):
        self.inputs: list[JsonStream] = list(inputs or [])
        self.dop: int | None = None
        self.source_span: Any = None
        self.name: str | None = None  # a display name (the variable it was assigned to)
        self.declared: str | None = None  # the new variable name of a ``declares_variable`` operator
        for spec in self.properties:
            setattr(self, spec.attr, spec.default)
        for attr, value in props.items():
            if not any(spec.attr == attr for spec in self.properties) and not hasattr(self, attr):
                raise PropertyError(f"{type(self).__name__} has no property {attr!r}", attr)
            setattr(self, attr, value)

    # -- metadata helpers -------------------------------------------------------------------------------------

    @classmethod
    def property_spec(cls, words: str) -> PropertySpec:
        """The spec whose words (or an alias) equal ``words``; raises PropertyError with suggestions."""
        for spec in cls.properties:
            if words in spec.all_words:
                return spec
        known = [w for spec in cls.properties for w in spec.all_words]
        import difflib  # here: only a misspelled word needs it, not every start-up

        close = difflib.get_close_matches(words, known, n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise PropertyError(f"operator {cls.verb!r} has no property {words!r}{hint}", words)

    def output_count(self) -> int:
        """Number of outputs of this instance (``outputs`` unless the operator derives it)."""
        return self.outputs if self.outputs is not None else 1

    def output_names(self) -> list[str] | None:
        """Names the script gave this operator's outputs, in output order, or None (the default): when the
        variables assigned from the operator are exactly these names, each variable gets the output of its
        name, else the outputs in order (``$person, $company = transform records ... into [entity $company
        ..., entity $person ...]``, as the original bound them)."""
        return None

    def output(self, index: int = 0) -> JsonStream:
        """The ``JsonStream`` of output ``index``."""
        return JsonStream(self, index)

    def display_name(self) -> str:
        return self.name or self.verb or type(self).__name__

    def read_streams(self) -> list[JsonStream]:
        """The streams this operator reads: its inputs, then the data sets its expressions read as values
        (nested operators and side channels, ``sopremo.nested``) until ``sopremo.decorrelate`` makes them inputs."""
        from sopremo.nested import expression_streams

        return [*self.inputs, *expression_streams(self)]

    def record_flow(self) -> "RecordFlow | None":
        """What this operator does with its records: a ``sopremo.flow.RecordFlow`` (which fields of which input
        it reads, whether it copies records or writes new values and from what), or None: opaque. The logical
        rewrites and projection pushdown rely on this declaration alone; an opaque operator stops them (nothing
        moves through it, it reads whole records). Subclasses override it; the value may depend on properties."""
        return None

    def property_values(self) -> Iterator[tuple[PropertySpec, Any]]:
        """(spec, value) for every declared property, in declaration order."""
        for spec in self.properties:
            yield spec, getattr(self, spec.attr)

    # -- validation -------------------------------------------------------------------------------------------

    def validate(self) -> None:
        """Check input count and property values; raise PropertyError naming the property.

        Subclasses extend this (call ``super().validate()``) for cross-property rules.
        """
        n = len(self.inputs)
        if n < self.min_inputs or (self.max_inputs is not None and n > self.max_inputs):
            expected = (f"{self.min_inputs}" if self.min_inputs == self.max_inputs else
                        f"at least {self.min_inputs}" if self.max_inputs is None else
                        f"{self.min_inputs} to {self.max_inputs}")
            raise PropertyError(f"operator {self.verb!r} takes {expected} input(s), got {n}")
        for spec, value in self.property_values():
            if spec.required and value is None:
                raise PropertyError(f"operator {self.verb!r} needs the property {spec.words!r}", spec.words)
            if spec.choices is not None and value is not None and not spec.per_input:
                self._check_choice(spec, value)

    def _check_choice(self, spec: PropertySpec, value: Any) -> None:
        norm = value.upper() if isinstance(value, str) else value
        allowed = [c.upper() if isinstance(c, str) else c for c in spec.choices or ()]
        if norm not in allowed:
            raise PropertyError(
                f"property {spec.words!r} of {self.verb!r} must be one of "
                f"{', '.join(repr(c) for c in spec.choices or ())}, got {value!r}", spec.words)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.display_name()}>"


class ElementaryOperator(Operator, ABC):
    """An operator that maps to exactly one PACT contract (Map, Reduce, Match, Cross, CoGroup, Union, ...).

    ``to_contract(inputs, ctx)`` receives the already-built contracts of its inputs (in input order) and a
    ``sopremo.to_pact.PactContext``; it returns one ``pact_backend.contracts.Contract`` whose UDF closes over
    the compiled expressions (compiled once, here, never per record).
    """

    @abstractmethod
    def to_contract(self, inputs: list[Any], ctx: Any) -> Any:
        """The PACT contract of this operator over the contracts ``inputs``."""


class CompositeOperator(Operator, ABC):
    """An operator defined by wiring other operators (e.g. ``remove duplicates``, Fig. 3 of the paper).

    ``expand()`` returns one ``JsonStream`` per output of this operator, built from operators whose inputs are
    this operator's inputs (``self.inputs``) or other new operators. Decomposition repeats until only
    elementary operators remain.
    """

    @abstractmethod
    def expand(self) -> list[JsonStream]:
        """One ``JsonStream`` per output, wired from other operators over ``self.inputs``."""


@dataclass
class SopremoPlan:
    """A Sopremo plan: the sinks of a DAG of operators (every operator reachable from a sink).

    ``sinks`` are ``sopremo.io.Sink`` operators in script order; ``operators()`` walks the DAG in a topological
    order (what an operator reads, inputs and data sets its expressions read, before the operator).
    """

    sinks: list[Operator] = field(default_factory=list)

    def operators(self) -> list[Operator]:
        order: list[Operator] = []
        seen: set[int] = set()

        def visit(op: Operator) -> None:
            if id(op) in seen:
                return
            seen.add(id(op))
            for stream in op.read_streams():
                visit(stream.operator)
            order.append(op)

        for sink in self.sinks:
            visit(sink)
        return order
