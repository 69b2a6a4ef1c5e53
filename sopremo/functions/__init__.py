"""The built-in functions and constants of Meteor (the original's CoreFunctions, MathFunctions, SecondOrderFunctions,
plus date functions on 'YYYY-MM-DD' strings).

``BUILTIN_FUNCTIONS`` maps every Meteor name (aliases such as ``strpos`` and ``reduce`` included) to its
``SopremoFunction``; ``BUILTIN_CONSTANTS`` holds ``PI`` and ``E``. The base package registers both
(docs/operators.md, the functions of package base). ``setWorkingDirectory`` is a statement handled by the binder.
"""

from __future__ import annotations

from typing import Any

from sopremo.function import SopremoFunction
from sopremo.functions.aggregations import AGGREGATIONS, aggregation_functions
from sopremo.functions.arrays import MATH_CONSTANTS, array_functions
from sopremo.functions.dates import date_functions
from sopremo.functions.higher_order import higher_order_functions
from sopremo.functions.text import text_functions

BUILTIN_FUNCTIONS: dict[str, SopremoFunction] = {
    **aggregation_functions(),
    **text_functions(),
    **array_functions(),
    **date_functions(),
    **higher_order_functions(),
}

BUILTIN_CONSTANTS: dict[str, Any] = dict(MATH_CONSTANTS)

__all__ = ["AGGREGATIONS", "BUILTIN_CONSTANTS", "BUILTIN_FUNCTIONS"]
