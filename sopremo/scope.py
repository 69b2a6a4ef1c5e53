"""The scope of one script: the stacked registries of operators, functions, constants and formats it can name.

``base`` is always in scope and ``using ie;`` pushes another package (DESIGN.md, "registry (stacked)"); a
qualified name ``pkg:name`` reaches an installed package without ``using``, as the original's parser did
(its ``getScope(packageName)``): the package's names are then found only with their prefix.
"""

from __future__ import annotations

from typing import Any

from sopremo.function import SopremoFunction
from sopremo.package import PACKAGES, PackageManager, SopremoPackage
from sopremo.registry import Registry, UnknownNameError, suggest


class Scope:
    """The stacked registries of one script: operators, functions, constants, formats; base always in scope.

    ``packages``: those brought in by ``use`` (``using``); ``reached``: those only reachable as ``pkg:name``
    (loaded by the first look-up naming them, as the original's parser did, or by ``reach``).
    """

    def __init__(self, manager: PackageManager | None = None):
        self.manager = manager or PACKAGES
        self.operators: Registry[type] = Registry("operator")
        self.functions: Registry[SopremoFunction] = Registry("function")
        self.constants: Registry[Any] = Registry("constant")
        self.formats: Registry[Any] = Registry("format")
        self.packages: list[str] = []
        self.reached: list[str] = []
        for registry in self._registries():
            registry.resolver = self._resolve
        self.use("base")

    def _registries(self) -> tuple[Registry, ...]:
        return self.operators, self.functions, self.constants, self.formats

    def use(self, name: str) -> SopremoPackage:
        """Bring package ``name`` into scope (idempotent); raises PackageError."""
        package = self.manager.get(name)
        if name not in self.packages:
            self.packages.append(name)
            if name in self.reached:
                self.reached.remove(name)
            self._push(name, package, qualified_only=False)
        return package

    def reach(self, name: str) -> SopremoPackage:
        """Make package ``name`` reachable as ``name:thing`` without bringing its names into scope (idempotent;
        a package already in scope stays so); raises PackageError."""
        package = self.manager.get(name)
        if name not in self.packages and name not in self.reached:
            self.reached.append(name)
            self._push(name, package, qualified_only=True)
        return package

    def _push(self, name: str, package: SopremoPackage, qualified_only: bool) -> None:
        for registry, entries in zip(self._registries(), (package.operators, package.functions,
                                                           package.constants, package.formats)):
            registry.push(name, entries, qualified_only)

    def _resolve(self, name: str) -> None:
        """A registry's resolver: reach ``name``; raises UnknownNameError (kind 'package') when it is not
        installed, PackageError when it fails to load."""
        if name not in self.manager.available():
            raise UnknownNameError("package", name, suggest(name, self.manager.available()))
        self.reach(name)

    def operator_classes(self) -> list[tuple[str, type]]:
        """(package, operator class) for every operator in scope, later packages first."""
        return [(pkg, cls) for pkg, _, cls in self.operators.items()]

    def key(self) -> tuple[str, ...]:
        """Identifies the set of packages in scope (the parser cache key); reached ones carry a ':'."""
        return (*self.packages, *(name + ":" for name in self.reached))


__all__ = ["Scope"]
