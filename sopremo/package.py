"""Operator packages and the package manager (DESIGN.md, "Operators carry their own syntax").

A ``SopremoPackage`` is one object that registers operators, functions, constants and formats. Packages are
found through the ``meteor.packages`` entry-point group (our own ``base``, ``ie`` and ``cleansing`` are
registered exactly as a third-party package would be). ``Scope`` holds the stacked registries of one script:
``base`` is always in scope; ``using ie;`` pushes another package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Callable

from sopremo.function import SopremoFunction
from sopremo.registry import Registry, UnknownNameError, suggest

ENTRY_POINT_GROUP = "meteor.packages"


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
    """Finds and loads packages by name from the ``meteor.packages`` entry points (cached per process)."""

    def __init__(self) -> None:
        self._loaded: dict[str, SopremoPackage] = {}
        self._extra: dict[str, SopremoPackage] = {}

    def add(self, package: SopremoPackage) -> None:
        """Make ``package`` available without an entry point (tests, the REPL, user code)."""
        self._extra[package.name] = package

    def available(self) -> list[str]:
        """Names of all packages that can be loaded."""
        names = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
        return sorted(names | set(self._extra) | set(self._loaded))

    def get(self, name: str) -> SopremoPackage:
        """The loaded package ``name``; raises PackageError naming it, why it failed, or close names."""
        if name in self._extra:
            return self._extra[name]
        if name in self._loaded:
            return self._loaded[name]
        eps = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
        if not eps:
            close = suggest(name, self.available())
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise PackageError(f"unknown package {name!r}{hint} (installed: {', '.join(self.available())})")
        if len(eps) > 1:
            raise PackageError(f"two installed packages register the Meteor package {name!r}: "
                               + ", ".join(ep.value for ep in eps))
        try:
            package = eps[0].load()
        except Exception as exc:  # any import failure of third-party code is reported, naming the package
            raise PackageError(f"package {name!r} ({eps[0].value}) failed to load: {exc}") from exc
        if not isinstance(package, SopremoPackage):
            raise PackageError(f"package {name!r} ({eps[0].value}) is not a SopremoPackage")
        self._loaded[name] = package
        return package


PACKAGES = PackageManager()


class Scope:
    """The stacked registries of one script: operators, functions, constants, formats; base always in scope."""

    def __init__(self, manager: PackageManager | None = None):
        self.manager = manager or PACKAGES
        self.operators: Registry[type] = Registry("operator")
        self.functions: Registry[SopremoFunction] = Registry("function")
        self.constants: Registry[Any] = Registry("constant")
        self.formats: Registry[Any] = Registry("format")
        self.packages: list[str] = []
        self.use("base")

    def use(self, name: str) -> SopremoPackage:
        """Bring package ``name`` into scope (idempotent); raises PackageError."""
        package = self.manager.get(name)
        if name not in self.packages:
            self.packages.append(name)
            self.operators.push(name, package.operators)
            self.functions.push(name, package.functions)
            self.constants.push(name, package.constants)
            self.formats.push(name, package.formats)
        return package

    def operator_classes(self) -> list[tuple[str, type]]:
        """(package, operator class) for every operator in scope, later packages first."""
        return [(pkg, cls) for pkg, _, cls in self.operators.items()]

    def key(self) -> tuple[str, ...]:
        """Identifies the set of packages in scope (the parser cache key)."""
        return tuple(self.packages)


__all__ = ["SopremoPackage", "PackageManager", "PackageError", "Scope", "PACKAGES", "UnknownNameError"]
