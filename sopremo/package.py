"""Operator packages and the package manager that finds them (the scope of one script: sopremo/scope.py).

A ``SopremoPackage`` is one object that registers operators, functions, constants and formats. Packages are
found in two places (docs/packages.md):

- the ``meteor.packages`` entry-point group: the entry point's name is the Meteor package name and its value
  points at the ``SopremoPackage`` object (``example = "meteor_example:package"``); our own ``base`` is
  registered exactly so;
- the package path (``--package-path DIR``, repeatable, then ``METEOR_PACKAGE_PATH``, ``os.pathsep``-separated):
  every module ``NAME.py`` and package ``NAME/__init__.py`` directly inside a path directory (NAME an
  identifier not starting with ``_``) is imported under the name NAME, and a module-level ``package`` that is
  a ``SopremoPackage`` is registered under its own ``name``; modules without ``package`` are skipped.

Two different packages with one name are an error naming both; a package that fails to load is an error
naming it and why.
"""

from __future__ import annotations

import os
import sys
from dataclasses import field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable

from pact_backend.entry_points import EntryPoint, entry_points
from sopremo.function import SopremoFunction
from sopremo.quick_dataclass import dataclass
from sopremo.registry import UnknownNameError, suggest

ENTRY_POINT_GROUP = "meteor.packages"
PATH_ENV = "METEOR_PACKAGE_PATH"


class PackageError(RuntimeError):
    """A package that cannot be found or fails to load; the message names it and why."""


@dataclass
class SopremoPackage:
    """A named set of operators (by Meteor verb), functions, constants and formats (by name)."""

    name: str
    doc: str = ""
    operators: dict[str, type] = field(default_factory=dict)
    functions: dict[str, SopremoFunction] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    formats: dict[str, Any] = field(default_factory=dict)

    def operator(self, cls: type) -> type:
        """Class decorator: register an operator under its ``verb`` (must be non-empty)."""
        if not getattr(cls, "verb", ""):
            raise PackageError(f"package {self.name!r}: operator {cls.__name__} has no verb")
        cls.package = self.name
        self.operators[cls.verb] = cls
        return cls

    def function(self, name: str | None = None, **kwargs: Any) -> Callable[[Callable], Callable]:
        """Decorator: register a Python callable as a SopremoFunction (kwargs as for SopremoFunction)."""

        def register(impl: Callable) -> Callable:
            fname = name or impl.__name__
            self.functions[fname] = SopremoFunction(fname, impl, **kwargs)
            return impl

        return register

    def add_function(self, function: SopremoFunction, *aliases: str) -> None:
        """Register an existing SopremoFunction under its name and any aliases."""
        for n in (function.name, *aliases):
            self.functions[n] = function

    def format(self, cls: type) -> type:
        """Class decorator: register a data format under its ``name``."""
        self.formats[cls.name] = cls
        return cls


class PackageManager:
    """Finds and loads packages by name: entry points, the package path, and packages added in code.

    ``path``: directories searched for package modules (see ``path_modules``) before those of the
    ``METEOR_PACKAGE_PATH`` environment variable (read when ``env`` is true). Entry points load lazily by
    name; the package path is imported as a whole on the first look-up (a module's Meteor name is known only
    once it is imported). Loaded packages are cached per manager.
    """

    def __init__(self, path: Iterable[str | Path] = (), env: bool = True) -> None:
        self._loaded: dict[str, SopremoPackage] = {}
        self._extra: dict[str, SopremoPackage] = {}
        self._path: list[Path] = [Path(p) for p in path]
        self._env = env
        self._scanned: tuple[Path, ...] | None = None
        self._found: dict[str, list[tuple[SopremoPackage, str]]] = {}
        self._failed: list[tuple[str, str]] = []  # (module name, message naming it and why)

    def add(self, package: SopremoPackage) -> None:
        """Make ``package`` available without an entry point (tests, the REPL, user code); it replaces any
        other package of the same name in this manager."""
        self._extra[package.name] = package

    def add_path(self, directory: str | Path) -> None:
        """Append ``directory`` to the package path (``--package-path``); it is scanned on the next look-up."""
        self._path.append(Path(directory))

    def search_path(self) -> list[Path]:
        """The package path: directories given in code or by ``--package-path``, then ``METEOR_PACKAGE_PATH``."""
        env = os.environ.get(PATH_ENV, "") if self._env else ""
        return [*self._path, *(Path(entry) for entry in env.split(os.pathsep) if entry)]

    def available(self) -> list[str]:
        """Names of all packages that can be loaded (entry points, package path, added in code)."""
        self._scan()
        names = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
        return sorted(names | set(self._extra) | set(self._loaded) | set(self._found))

    def failures(self) -> list[str]:
        """One message (naming the module, its file and why) per package-path module that failed to load."""
        self._scan()
        return [message for _, message in self._failed]

    def get(self, name: str) -> SopremoPackage:
        """The loaded package ``name``.

        Raises PackageError when no package has that name (with close names and the package-path modules
        that failed to load), when its candidate fails to load (naming it and why), or when two different
        packages claim the name (naming both).
        """
        if name in self._extra:
            return self._extra[name]
        if name in self._loaded:
            return self._loaded[name]
        self._scan()
        found = list(self._found.get(name, []))
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name == name:
                found.append((self._load_entry_point(ep), _entry_point_origin(ep)))
        distinct = list({id(pkg): (pkg, origin) for pkg, origin in found}.values())
        if not distinct:
            raise PackageError(self._unknown(name))
        if len(distinct) > 1:
            raise PackageError(f"two packages are named {name!r}: " + " and ".join(o for _, o in distinct))
        self._loaded[name] = distinct[0][0]
        return distinct[0][0]

    def _unknown(self, name: str) -> str:
        for module_name, message in self._failed:
            if module_name == name:
                return message
        close = suggest(name, self.available())
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        message = f"unknown package {name!r}{hint} (installed: {', '.join(self.available())})"
        if self._failed:
            message += "; on the package path: " + "; ".join(message for _, message in self._failed)
        return message

    @staticmethod
    def _load_entry_point(ep: EntryPoint) -> SopremoPackage:
        origin = _entry_point_origin(ep)
        try:
            package = ep.load()
        except Exception as exc:  # any import failure of third-party code is reported, naming the package
            raise PackageError(f"package {ep.name!r} ({origin}) failed to load: "
                               f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(package, SopremoPackage):
            raise PackageError(f"package {ep.name!r} ({origin}) is a {type(package).__name__}, "
                               "not a SopremoPackage")
        if package.name != ep.name:
            raise PackageError(f"package {ep.name!r} ({origin}) is named {package.name!r}; the entry point "
                               "name must be the package name")
        return package

    def _scan(self) -> None:
        """Import every module of the package path once (again when the path changed)."""
        dirs = tuple(self.search_path())
        if self._scanned == dirs:
            return
        self._scanned, self._found, self._failed = dirs, {}, []
        for directory in dirs:
            if not directory.is_dir():
                self._failed.append(("", f"package path entry {str(directory)!r} is not a directory"))
                continue
            for module_name, file in path_modules(directory.resolve()):
                try:
                    package = load_path_package(module_name, file)
                except PackageError as exc:
                    self._failed.append((module_name, str(exc)))
                    continue
                if package is not None:
                    self._found.setdefault(package.name, []).append((package, f"{module_name} ({file})"))


def _entry_point_origin(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    where = f" in {dist.name} {dist.version}" if dist is not None else ""
    return f"entry point {ep.value}{where}"


def path_modules(directory: Path) -> list[tuple[str, Path]]:
    """(module name, file) of every package-path candidate directly in ``directory``, sorted by name.

    A candidate is ``NAME.py`` or a directory ``NAME/`` holding ``__init__.py``, where NAME is a Python
    identifier not starting with ``_`` (so ``__pycache__``, ``_helpers.py`` and ``setup-tools/`` are skipped).
    """
    found: dict[str, Path] = {}
    for entry in sorted(directory.iterdir()):
        name = entry.stem if entry.suffix == ".py" and entry.is_file() else entry.name
        if not name.isidentifier() or name.startswith("_"):
            continue
        if entry.is_file() and entry.suffix == ".py":
            found.setdefault(name, entry)
        elif entry.is_dir() and (entry / "__init__.py").is_file():
            found[name] = entry / "__init__.py"
    return sorted(found.items())


def load_path_package(module_name: str, file: Path) -> SopremoPackage | None:
    """Import the package-path module ``module_name`` from ``file``; its module-level ``package``, or None.

    The module's directory is appended to ``sys.path`` so worker processes can import it by the same name.
    Raises PackageError naming the module when it fails to import, when another module of that name is
    already imported, or when its ``package`` is not a SopremoPackage.
    """
    origin = f"{module_name} ({file})"
    module = sys.modules.get(module_name)
    if module is not None:
        loaded_from = getattr(module, "__file__", None)
        if loaded_from is None or Path(loaded_from).resolve() != file.resolve():
            raise PackageError(f"package module {origin} has the name of the already imported module "
                               f"{module_name!r} ({loaded_from or 'built in'}); rename it")
    else:
        module = _import_file(module_name, file)
    package = getattr(module, "package", None)
    if package is not None and not isinstance(package, SopremoPackage):
        raise PackageError(f"package module {origin}: 'package' is a {type(package).__name__}, "
                           "not a SopremoPackage")
    return package


def _import_file(module_name: str, file: Path) -> ModuleType:
    import importlib.util

    is_package = file.name == "__init__.py"
    root = str((file.parent.parent if is_package else file.parent).resolve())
    if root not in sys.path:
        sys.path.append(root)
    spec = importlib.util.spec_from_file_location(
        module_name, file, submodule_search_locations=[str(file.parent)] if is_package else None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # third-party code: report any failure, naming the module
        del sys.modules[module_name]
        raise PackageError(f"package module {module_name} ({file}) failed to load: "
                           f"{type(exc).__name__}: {exc}") from exc
    return module


PACKAGES = PackageManager()


__all__ = ["SopremoPackage", "PackageManager", "PackageError", "PACKAGES", "UnknownNameError"]
