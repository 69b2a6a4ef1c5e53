"""The ``base`` Sopremo package: relational operators (Table 1, top), built-in functions and formats.

Importing this module registers every operator of the package (filter, transform, join, group, union, union
all, intersect, subtract, unique, sort, replace, replace all, split array/object/value, enumerate, pivot, nest,
unnest), the built-in functions and constants of ``sopremo.functions`` and the formats of ``sopremo.io``.
"""

from sopremo.api import BUILTIN_CONSTANTS, BUILTIN_FUNCTIONS, FORMATS, SopremoPackage

package = SopremoPackage("base", doc="relational operators, built-in functions and the json/jsonl/csv/text formats")

from .enumeration import GlobalEnumeration  # noqa: E402
from .grouping import Grouping  # noqa: E402
from .join import Join  # noqa: E402
from .nest import Nest, Unnest  # noqa: E402
from .pivot import Pivot  # noqa: E402
from .projection import Projection  # noqa: E402
from .replace import Replace, ReplaceAll  # noqa: E402
from .selection import Selection  # noqa: E402
from .setops import Difference, Intersection, Union, UnionAll, Unique  # noqa: E402
from .sort import Sort  # noqa: E402
from .split import ArraySplit, ObjectSplit, ValueSplit  # noqa: E402


def _register_builtins() -> None:
    """Put the built-in functions, constants and formats of the sopremo layer into the package."""
    package.functions.update(BUILTIN_FUNCTIONS)
    package.constants.update(BUILTIN_CONSTANTS)
    package.formats.update(FORMATS)


_register_builtins()

__all__ = ["package", "ArraySplit", "Difference", "GlobalEnumeration", "Grouping", "Intersection", "Join", "Nest",
           "ObjectSplit", "Pivot", "Projection", "Replace", "ReplaceAll", "Selection", "Sort", "Union", "UnionAll",
           "Unique", "Unnest", "ValueSplit"]
