"""The ``base`` Sopremo package: relational operators (Table 1, top), built-in functions and formats."""

from sopremo.package import SopremoPackage

package = SopremoPackage("base", doc="relational operators, built-in functions and the json/jsonl/csv/text formats")
