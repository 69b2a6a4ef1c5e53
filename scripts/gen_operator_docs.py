"""Generate docs/operators.md from the metadata of the packages that ship with meteor (``--check``: compare only).

The packages are the ``meteor.packages`` entry points of the ``meteor`` distribution itself (base, ie,
cleansing, ...), never other installed packages, so the file does not depend on the machine. The text comes
from meteor/help.py, the same code behind ``meteor help``. tests/test_docs.py fails when the file is
out of date; regenerate with ``python scripts/gen_operator_docs.py``.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points
from pathlib import Path

from meteor.help import clean, kind_of, placeholder, property_notes, signature, syntax
from sopremo.package import ENTRY_POINT_GROUP, PackageManager, SopremoPackage

TARGET = Path(__file__).resolve().parents[1] / "docs" / "operators.md"


def shipped_packages() -> list[SopremoPackage]:
    """The packages registered by the meteor distribution, base first; raises PackageError if one fails."""
    names = sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)
                    if ep.dist is not None and ep.dist.name == "meteor"}, key=lambda n: (n != "base", n))
    manager = PackageManager(env=False)
    return [manager.get(name) for name in names]


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def operator_section(cls: type) -> list[str]:
    """The markdown of one operator: syntax, summary, description, inputs and a table of properties."""
    lines = [f"### {cls.verb}", "", f"`{syntax(cls)}`", "", f"{kind_of(cls)} operator; inputs: "
             f"{cls.min_inputs}{'+' if cls.max_inputs is None else '' if cls.max_inputs == cls.min_inputs else f'-{cls.max_inputs}'}", ""]
    if cls.doc:
        lines += [_cell(cls.doc), ""]
    if clean(cls.__doc__):
        lines += [clean(cls.__doc__), ""]
    if cls.properties:
        lines += ["| Property | Value | Notes |", "|---|---|---|"]
        lines += [f"| `{s.words}` | `{_cell(placeholder(s))}` | {_cell(property_notes(s))} |" for s in cls.properties]
        lines.append("")
    return lines


def package_section(package: SopremoPackage) -> list[str]:
    """The markdown of one package: operators, then functions, constants and formats as tables."""
    lines = [f"## Package `{package.name}`", "", package.doc, ""]
    for verb in sorted(package.operators):
        lines += operator_section(package.operators[verb])
    if package.functions:
        lines += ["### Functions", "", "| Function | Description |", "|---|---|"]
        lines += [f"| `{_cell(signature(name, fn))}` | {_cell(clean(fn.doc) or clean(fn.impl.__doc__))} |"
                  for name, fn in sorted(package.functions.items(), key=lambda kv: kv[0].lower())]
        lines.append("")
    if package.constants:
        lines += ["### Constants", "", ", ".join(f"`{n}` = {v!r}" for n, v in sorted(package.constants.items())), ""]
    if package.formats:
        lines += ["### Formats", "", "| Format | Extensions | Options | Description |", "|---|---|---|---|"]
        for name, fmt in sorted(package.formats.items()):
            options = ", ".join(f"`{s.words}`" for s in getattr(fmt, "properties", ()))
            lines.append(f"| `{name}` | {', '.join(getattr(fmt, 'extensions', ()))} | {options} | "
                         f"{_cell(getattr(fmt, 'doc', ''))} |")
        lines.append("")
    return lines


def render() -> str:
    """The whole of docs/operators.md."""
    packages = shipped_packages()
    lines = ["# Operators, functions and formats", "",
             "Generated from the operator metadata by `python scripts/gen_operator_docs.py`; do not edit. "
             "`meteor help NAME` prints the same text. Packages: "
             + ", ".join(f"`{p.name}`" for p in packages) + " (`base` is always in scope; `using NAME;` "
             "brings in the others).", ""]
    for package in packages:
        lines += package_section(package)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write docs/operators.md, or with ``--check`` exit 1 when it differs from the generated text."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run python scripts/gen_operator_docs.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
