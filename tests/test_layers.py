"""The layer rules of docs/architecture (DESIGN.md, "Dependencies point one way"), checked on the source: an import lint.

Every module of ``meteor/``, ``sopremo/``, ``pact_backend/`` and ``packages/`` is parsed (``ast``, no import
runs) and each ``import`` / ``from ... import`` anywhere in it (lazy imports inside functions too) is checked:

- ``pact_backend`` imports no ``sopremo``, ``meteor`` or package module (it sees opaque UDFs and records);
- ``sopremo`` imports no ``meteor`` or package module;
- ``meteor`` imports ``sopremo`` and never ``pact_backend`` or a package module (meteor -> sopremo only);
- a package module (under ``packages/``, and the installable example package under
  ``examples/custom_package/src``) imports of ``sopremo`` only ``sopremo.api``, and nothing of
  ``pact_backend`` or ``meteor`` - exactly what a third-party package can do (docs/packages.md);
- no module imports a ``_private`` name of another module (``from x import _name``, ``x._name`` on an
  imported module ``x``).

An import by name at run time (``importlib.import_module("x")``, ``__import__("x")`` with a literal name) counts
as an import. A failure lists every offending import as ``file:line: what (rule)``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("meteor", "sopremo", "pact_backend", "packages")
PACKAGE_ROOTS = (ROOT / "packages", ROOT / "examples" / "custom_package" / "src")  # what a package is, and where
PACKAGES = frozenset(p.name for root in PACKAGE_ROOTS for p in root.iterdir() if (p / "__init__.py").is_file())
OURS = frozenset({"meteor", "sopremo", "pact_backend"}) | PACKAGES


@dataclass(frozen=True)
class Import:
    """One imported module (absolute dotted name) and the names taken from it, at a line of a file."""

    file: str
    line: int
    module: str
    names: tuple[str, ...]


def package_root(path: Path) -> Path | None:
    """The package root (``packages/`` or the example's ``src/``) that ``path`` lies in, or None."""
    return next((root for root in PACKAGE_ROOTS if path.is_relative_to(root)), None)


def layer(rel: str) -> str:
    """The layer of a source file given relative to the repository: its top folder, packages for packages."""
    return "packages" if package_root(ROOT / rel) is not None else rel.split("/")[0]


def module_name(path: Path) -> str:
    """The dotted module name of a source file (``packages/sopremo_base/x.py`` is ``sopremo_base.x``)."""
    root = package_root(path)
    parts = list(path.relative_to(root or ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


DYNAMIC = {"import_module", "__import__"}  # functions importing the module named by their first argument


def dynamic_import(node: ast.Call) -> str | None:
    """The literal module name of ``importlib.import_module("x")`` / ``import_module("x")`` / ``__import__("x")``."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in DYNAMIC or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def imports(path: Path) -> list[Import]:
    """Every import of ``path``, relative ones resolved to absolute module names."""
    name, rel = module_name(path), path.relative_to(ROOT).as_posix()
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), rel)):
        if isinstance(node, ast.Import):
            found += [Import(rel, node.lineno, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.append(Import(rel, node.lineno, module, tuple(alias.name for alias in node.names)))
        elif isinstance(node, ast.Call) and (dynamic := dynamic_import(node)) is not None:
            found.append(Import(rel, node.lineno, dynamic, ()))
    return found


def sources() -> list[Path]:
    layers = [ROOT / name for name in LAYERS] + list(PACKAGE_ROOTS[1:])
    return [path for folder in layers for path in sorted(folder.rglob("*.py"))]


def top(module: str) -> str:
    return module.split(".")[0]


def layer_violation(imp: Import) -> str | None:
    """Why ``imp`` breaks a layer rule, or None."""
    layer_, target = layer(imp.file), top(imp.module)
    if layer_ == "pact_backend" and target in OURS - {"pact_backend"}:
        return "pact_backend imports no sopremo, meteor or package module"
    if layer_ == "sopremo" and target in OURS - {"sopremo", "pact_backend"}:
        return "sopremo imports no meteor or package module"
    if layer_ == "meteor" and target in PACKAGES:
        return "meteor imports no package module (meteor -> sopremo only)"
    if layer_ == "meteor" and target == "pact_backend":
        return "meteor imports no pact_backend module (meteor -> sopremo only)"
    if layer_ == "packages":
        if target in ("pact_backend", "meteor"):
            return f"a package imports no {target} module (sopremo.api re-exports what packages need)"
        if target == "sopremo" and not (imp.module == "sopremo.api" or (imp.module == "sopremo" and imp.names == ("api",))):
            return "a package imports only sopremo.api of sopremo"
    return None


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_imports(path: Path) -> list[str]:
    """``file:line: ...`` for every private name of another of our modules that ``path`` imports or reads."""
    rel = path.relative_to(ROOT).as_posix()
    found = [f"{rel}:{imp.line}: from {imp.module} import {name}"
             for imp in imports(path) if top(imp.module) in OURS for name in imp.names if is_private(name)]
    modules: dict[str, str] = {}  # local name -> the module of ours bound to it
    for imp in imports(path):
        if top(imp.module) in OURS:
            modules.update({name: f"{imp.module}.{name}" for name in imp.names} if imp.names
                           else {top(imp.module): top(imp.module)})
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update({alias.asname: alias.name for alias in node.names if alias.asname})
        elif isinstance(node, ast.ImportFrom):
            modules.update({alias.asname: modules.get(alias.name, "") for alias in node.names if alias.asname})
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Attribute) and is_private(node.attr) and isinstance(node.value, ast.Name)
                and is_module(modules.get(node.value.id, ""))):
            found.append(f"{rel}:{node.lineno}: {node.value.id}.{node.attr} (of {modules[node.value.id]})")
    return found


def is_module(module: str) -> bool:
    """Whether ``module`` (a dotted name, maybe a class or function of a module) is one of our modules."""
    parts = module.split(".")
    if not module or parts[0] not in OURS:
        return False
    roots = [root for root in PACKAGE_ROOTS if (root / parts[0]).is_dir()] if parts[0] in PACKAGES else [ROOT]
    path = roots[0].joinpath(*parts) if roots else ROOT.joinpath(*parts)
    return path.is_dir() or path.with_suffix(".py").is_file()


def test_the_lint_sees_every_layer() -> None:
    files = {layer(path.relative_to(ROOT).as_posix()) for path in sources()}
    assert files == set(LAYERS)
    assert {"sopremo_base", "sopremo_ie", "sopremo_cleansing", "meteor_example"} <= PACKAGES
    example = ROOT / "examples" / "custom_package" / "src" / "meteor_example" / "__init__.py"
    assert example in sources() and module_name(example) == "meteor_example"


def test_the_lint_resolves_relative_imports() -> None:
    found = imports(ROOT / "packages" / "sopremo_base" / "grouping.py")
    assert any(imp.module == "sopremo_base.keys" for imp in found)
    assert layer_violation(Import("packages/x/y.py", 1, "sopremo.operator", ("Operator",))) is not None
    assert layer_violation(Import("packages/x/y.py", 1, "sopremo", ("api",))) is None
    assert layer_violation(Import("meteor/binder.py", 1, "pact_backend.contracts", ("Map",))) is not None
    example = "examples/custom_package/src/meteor_example/__init__.py"
    assert layer_violation(Import(example, 1, "sopremo.flow", ("RecordFlow",))) is not None


def test_the_lint_sees_imports_by_literal_name(tmp_path) -> None:
    source = tmp_path / "lazy.py"
    source.write_text("import importlib\n\ndef f(name):\n    importlib.import_module('pact_backend.io')\n"
                      "    __import__('sopremo_base.join')\n    importlib.import_module(name)\n")
    calls = [node for node in ast.walk(ast.parse(source.read_text())) if isinstance(node, ast.Call)]
    assert [dynamic_import(c) for c in calls] == ["pact_backend.io", "sopremo_base.join", None]
    assert layer_violation(Import("meteor/x.py", 4, "pact_backend.io", ())) is not None


def test_layers_point_one_way() -> None:
    problems = [f"{imp.file}:{imp.line}: {imp.module} ({why})"
                for path in sources() for imp in imports(path) if (why := layer_violation(imp)) is not None]
    assert not problems, "imports breaking the layer rules:\n" + "\n".join(problems)


def test_no_private_name_is_imported_across_modules() -> None:
    problems = [problem for path in sources() for problem in private_imports(path)]
    assert not problems, "private names used outside their module:\n" + "\n".join(problems)
