"""The public API for writing Meteor operator packages: everything a package author imports, in one place.

A package module imports from here only (``from sopremo.api import SopremoPackage, ElementaryOperator, ...``);
names imported from anywhere else in ``sopremo`` or ``pact_backend`` are internal and may change. The guide is
docs/packages.md; ``examples/custom_package/`` is a complete, installable package written against this API.

What is here, by use:

- the package object: ``SopremoPackage`` (``@package.operator``, ``@package.function(...)``,
  ``package.constants[...]``, ``@package.format``), ``PackageError``;
- operators and their Meteor syntax: ``Operator``, ``ElementaryOperator`` (one PACT contract),
  ``CompositeOperator`` (wires other operators; ``operator_class`` finds them by Meteor name), ``JsonStream``,
  ``PropertySpec`` and the property kinds ``EXPRESSION CONSTANT INPUTS BINDING OPERATORS INPUT``,
  ``PropertyError``; ``RecordFlow``, what an operator's ``record_flow()`` declares it reads, copies and writes
  (the logical rewrites and projection pushdown rely on it; ``sopremo.flow``);
- the PACT contracts an elementary operator returns: ``Map Reduce Match Cross CoGroup Union`` (UDF shapes in
  their docstrings), their optimizer ``Hints``, ``PactContext``, and ``contract_args`` for their common arguments;
  ``Key`` (a key function with the description that makes equal keys equal for the optimizer), ``Combiner`` (a
  Reduce's combiner, with its optional fusion hook ``fuse_source`` returning a ``FusedSource``);
- expressions: ``compile_expression`` (compile a property's expression once into a Python closure),
  ``compile_predicate`` (the same, returning a bool), ``evaluate_constant``, ``render`` (an expression as
  Meteor text); the node classes in ``expressions``, the ones packages build and inspect most also by name
  (``Expression InputRef FieldAccess ArrayIndex Constant ObjectConstruction FieldAssignment ArrayConstruction
  FunctionCall Comparison And Directed ElementIn LambdaParam NestedOperator TagMapping Ternary Var``) with the helpers
  ``input_refs`` (the inputs an expression reads), ``replace_inputs``, ``map_children`` and ``reads`` (the
  top-level fields of each input an expression reads, ``sopremo.readwrite``);
- fast paths of grouping: ``compile_key`` (a key expression as straight-line code), ``compile_fold`` (the
  per-record fold of several aggregations), ``aggregation_kind`` ('sum', 'count', 'mean' or 'generic'),
  ``is_aggregation_call`` and ``split_aggregation`` (an aggregation
  call ``sum($g[*].x)`` taken apart), ``reads_as_sequence`` (whether an expression reads a group array only
  in ways a spilled group serves, so its contract may declare ``sequence_groups``), ``compile_batch_kernel`` / ``BatchKernel`` / ``NotFusable`` (a filter and
  fold over batches of decoded rows) and ``RowDecoder`` / ``RowBatch`` (JSON Lines decoded into such batches);
- values: ``MISSING``, ``hashable`` (the key of a value, for PACT keys), ``truthy``, ``to_json``,
  ``type_name``, ``sort_key``, ``less`` (Meteor ``<``), ``string_form`` (Meteor's text of a value), ``cast``
  (a value converted to a Meteor type by name);
- functions: ``SopremoFunction``, ``Aggregation``, and the built-ins of the sopremo layer (``BUILTIN_FUNCTIONS``,
  ``BUILTIN_CONSTANTS``, ``aggregation_functions()``) that ``base`` registers and other packages may wrap;
  ``task_sequence(key)``: a number unique per key within one stage of a run, for a UDF such as generateId;
- formats: ``DataFormat``, ``FileInput``, ``FileOutput``, ``RecordWriter``, ``encode_json``, and the built-in
  formats ``FORMATS`` (registered by ``base``);
- user errors (printed without a traceback): ``MeteorError``, ``OperatorError``, ``DataError``.
- ``dataclass``: the decorator sopremo's own classes (expression nodes, contracts, AST) are made with
  (``sopremo.quick_dataclass``, start-up); a dataclass subclass of one of them must use it too (the
  standard decorator refuses a frozen subclass of it).
"""

from __future__ import annotations

from typing import Any

from pact_backend.contracts import CoGroup, Combiner, Cross, FusedSource, Hints, Key, Map, Match, Reduce, Union
from pact_backend.io import RowBatch, RowDecoder
from pact_backend.runtime.task_context import task_sequence
from sopremo.errors import DataError, MeteorError, OperatorError
from sopremo.expressions import nodes as expressions
from sopremo.expressions.aggregates import is_aggregation_call, split_aggregation
from sopremo.expressions.batch_kernel import BatchKernel, NotFusable, compile_batch_kernel
from sopremo.expressions.compiler import compile_expression, compile_predicate, evaluate_constant
from sopremo.expressions.fused import aggregation_kind, compile_fold, compile_key
from sopremo.expressions.group_reads import reads_as_sequence
from sopremo.expressions.located import error_at
from sopremo.expressions.nodes import (And, ArrayConstruction, ArrayIndex, Comparison, Constant, Directed, ElementIn,
                                       Expression, FieldAccess, FieldAssignment, FunctionCall, InputRef, LambdaParam,
                                       NestedOperator, ObjectConstruction, TagMapping, Ternary, Var, input_refs,
                                       map_children, replace_inputs)
from sopremo.expressions.render import render
from sopremo.expressions.runtime import less
from sopremo.flow import RecordFlow
from sopremo.function import Aggregation, SopremoFunction
from sopremo.functions import BUILTIN_CONSTANTS, BUILTIN_FUNCTIONS
from sopremo.functions.aggregations import aggregation_functions
from sopremo.io import FORMATS
from sopremo.io.base import DataFormat, FileInput, FileOutput, RecordWriter, encode_json
from sopremo.operator import (BINDING, CONSTANT, EXPRESSION, INPUT, INPUTS, OPERATORS, CompositeOperator,
                              ElementaryOperator, JsonStream, Operator, PropertyError, PropertySpec)
from sopremo.package import PackageError, SopremoPackage
from sopremo.quick_dataclass import dataclass
from sopremo.readwrite import reads
from sopremo.to_pact import PactContext
from sopremo.types import cast, string_form
from sopremo.values import MISSING, hashable, sort_key, to_json, truthy, type_name


def contract_args(op: Operator, inputs: list[Any]) -> dict[str, Any]:
    """The keyword arguments every contract built by ``op.to_contract`` takes: name, inputs and DOP hint.

    Input: the operator and the input contracts ``to_contract`` received. Output: ``{"name": ..., "inputs":
    [...], "dop": ...}``, to be splatted into ``Map(udf=..., **contract_args(self, inputs))``.
    """
    return {"name": op.display_name(), "inputs": list(inputs), "dop": op.dop}


def operator_class(verb: str, package: str = "base") -> type[Operator]:
    """The operator class registered under the Meteor name ``verb`` in ``package`` (loaded on demand).

    For composite operators that wire the operators of other packages: ``operator_class("filter")`` is the
    ``filter`` of ``base``. Raises PackageError when the package cannot be loaded, KeyError naming the verb
    when it has no such operator.
    """
    from sopremo.package import PACKAGES

    operators = PACKAGES.get(package).operators
    if verb not in operators:
        raise KeyError(f"package {package!r} has no operator {verb!r}")
    return operators[verb]


__all__ = [
    # packages
    "SopremoPackage", "PackageError",
    # operators and their syntax
    "Operator", "ElementaryOperator", "CompositeOperator", "JsonStream", "PropertySpec", "PropertyError",
    "EXPRESSION", "CONSTANT", "INPUTS", "BINDING", "OPERATORS", "INPUT", "RecordFlow",
    # PACT contracts
    "Map", "Reduce", "Match", "Cross", "CoGroup", "Union", "Hints", "Key", "Combiner", "FusedSource", "PactContext",
    "dataclass",
    "contract_args", "operator_class",
    # expressions
    "compile_expression", "compile_predicate", "evaluate_constant", "render", "expressions", "error_at",
    "Expression", "InputRef", "FieldAccess", "ArrayIndex", "Constant", "ObjectConstruction", "FieldAssignment",
    "ArrayConstruction", "FunctionCall", "Comparison", "And", "Directed", "ElementIn", "LambdaParam", "NestedOperator",
    "TagMapping", "Ternary", "Var", "input_refs", "replace_inputs", "map_children", "reads",
    # fast paths of grouping
    "compile_key", "compile_fold", "aggregation_kind", "is_aggregation_call", "split_aggregation",
    "reads_as_sequence", "compile_batch_kernel",
    "BatchKernel", "NotFusable", "RowDecoder", "RowBatch",
    # values
    "MISSING", "hashable", "truthy", "to_json", "type_name", "sort_key", "less", "string_form", "cast",
    # functions
    "SopremoFunction", "Aggregation", "BUILTIN_FUNCTIONS", "BUILTIN_CONSTANTS", "aggregation_functions",
    "task_sequence",
    # formats
    "DataFormat", "FileInput", "FileOutput", "RecordWriter", "encode_json", "FORMATS",
    # errors
    "MeteorError", "OperatorError", "DataError",
]
