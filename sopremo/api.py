"""The public API for writing Meteor operator packages: everything a package author imports, in one place.

A package module imports from here only (``from sopremo.api import SopremoPackage, ElementaryOperator, ...``);
names imported from anywhere else in ``sopremo`` or ``pact_backend`` are internal and may change. The guide is
docs/packages.md; ``examples/custom_package/`` is a complete, installable package written against this API.

What is here, by use:

- the package object: ``SopremoPackage`` (``@package.operator``, ``@package.function(...)``,
  ``package.constants[...]``, ``@package.format``), ``PackageError``;
- operators and their Meteor syntax: ``Operator``, ``ElementaryOperator`` (one PACT contract),
  ``CompositeOperator`` (wires other operators; ``operator_class`` finds them by Meteor name), ``JsonStream``, ``PropertySpec`` and the property kinds
  ``EXPRESSION CONSTANT INPUTS BINDING OPERATORS INPUT``, ``PropertyError``;
- the PACT contracts an elementary operator returns: ``Map Reduce Match Cross CoGroup Union`` (UDF shapes in
  their docstrings), ``PactContext``, and ``contract_args`` for their common arguments;
- expressions: ``compile_expression`` (compile a property's expression once into a Python closure),
  ``evaluate_constant``, ``Expression`` and the node classes in ``expressions`` (to build expressions when a
  composite operator configures the operators it wires);
- values: ``MISSING``, ``hashable`` (the key of a value, for PACT keys), ``truthy``, ``to_json``,
  ``type_name``, ``sort_key``;
- functions: ``SopremoFunction``, ``Aggregation``;
- formats: ``DataFormat``, ``FileInput``, ``FileOutput``, ``RecordWriter``, ``encode_json``;
- user errors (printed without a traceback): ``MeteorError``, ``OperatorError``, ``DataError``.
"""

from __future__ import annotations

from typing import Any

from pact_backend.contracts import CoGroup, Cross, Map, Match, Reduce, Union
from sopremo.errors import DataError, MeteorError, OperatorError
from sopremo.expressions import nodes as expressions
from sopremo.expressions.compiler import compile_expression, evaluate_constant
from sopremo.expressions.nodes import Expression
from sopremo.function import Aggregation, SopremoFunction
from sopremo.io.base import DataFormat, FileInput, FileOutput, RecordWriter, encode_json
from sopremo.operator import (BINDING, CONSTANT, EXPRESSION, INPUT, INPUTS, OPERATORS, CompositeOperator,
                              ElementaryOperator, JsonStream, Operator, PropertyError, PropertySpec)
from sopremo.package import PackageError, SopremoPackage
from sopremo.to_pact import PactContext
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
    "EXPRESSION", "CONSTANT", "INPUTS", "BINDING", "OPERATORS", "INPUT",
    # PACT contracts
    "Map", "Reduce", "Match", "Cross", "CoGroup", "Union", "PactContext", "contract_args", "operator_class",
    # expressions
    "compile_expression", "evaluate_constant", "Expression", "expressions",
    # values
    "MISSING", "hashable", "truthy", "to_json", "type_name", "sort_key",
    # functions
    "SopremoFunction", "Aggregation",
    # formats
    "DataFormat", "FileInput", "FileOutput", "RecordWriter", "encode_json",
    # errors
    "MeteorError", "OperatorError", "DataError",
]
