"""``dataclass``: the standard ``dataclasses.dataclass`` without compiling code when a class is made.

The standard decorator writes up to six methods per class as Python source and compiles each (``exec``): about
0.35 ms per frozen class on Python 3.11, so the 139 classes a ``meteor run`` loads (AST, expressions, contracts,
plans) took 45 ms of its start-up (docs/benchmarks.md, "Start-up"). This ``dataclass`` makes the same class in
about 0.02 ms: ``dataclasses`` itself collects the fields (so ``dataclasses.fields``, ``replace``, ``asdict``,
``is_dataclass``, ``__match_args__`` and ``field(default_factory=..., kw_only=..., compare=...)`` work as
usual), and the methods are closures over the field names that behave as the generated ones:

- ``__eq__`` compares the ``compare`` fields of two instances of the same class (else NotImplemented);
  ``__hash__`` hashes them (frozen classes; None for other classes with ``eq``, as the standard table says);
  ``__repr__`` shows the ``repr`` fields; a frozen class's ``__setattr__`` and ``__delattr__`` raise
  ``dataclasses.FrozenInstanceError``;
- ``__init__`` is compiled on the first instantiation of the class, with the generated one's signature and body
  (positional fields in order, defaults, factories, keyword-only fields, ``__post_init__`` last), so only the
  classes a run instantiates pay for it, once.

A method the class body defines is kept, as ``dataclass`` keeps it. Used as ``@dataclass``,
``@dataclass(frozen=True)``, ``@dataclass(eq=False, repr=False)``...; other options (``order``,
``unsafe_hash``, ``slots``, ``init=False``...), ``ClassVar``/``InitVar`` pseudo-fields and subclasses of a
standard dataclass are handed to ``dataclasses.dataclass`` unchanged. Difference: ``__dataclass_params__`` says
``init``, ``repr``, ``eq`` and ``frozen`` are False (``dataclasses`` made the fields only), so a subclass of one of
these classes must use this decorator too (the standard one raises "cannot inherit frozen dataclass from a
non-frozen one" for a frozen subclass).
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, FrozenInstanceError
from operator import attrgetter
from reprlib import recursive_repr
from typing import Any, Callable

_QUICK = "__quick_dataclass_frozen__"  # set on the classes made here: whether they are frozen
_OPTIONS = frozenset({"repr", "eq", "frozen", "init"})


class _Factory:
    """The default of an ``__init__`` parameter whose field has a default_factory (shown as dataclass shows it)."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def dataclass(cls: type | None = None, /, **options: Any) -> Any:
    """``dataclasses.dataclass(cls, **options)``, made without compiling code now where it can be (see above)."""
    if cls is None:
        return lambda klass: dataclass(klass, **options)
    if not options.keys() <= _OPTIONS or options.get("init", True) is not True or not _quick_bases(cls):
        return dataclasses.dataclass(cls, **options)
    frozen, eq = options.get("frozen", False), options.get("eq", True)
    for base in cls.__mro__[1:]:
        if getattr(base, _QUICK, frozen) != frozen:
            raise TypeError(f"cannot inherit {'' if frozen else 'non-'}frozen dataclass from a "
                            f"{'non-' if frozen else ''}frozen one")
    if frozen:
        for name in ("__setattr__", "__delattr__"):
            if name in cls.__dict__:
                raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}")
    if not cls.__dict__.get("__doc__"):
        cls.__doc__ = cls.__name__  # dataclass would compute a signature with inspect to document it
    dataclasses.dataclass(init=False, repr=False, eq=False)(cls)
    fields = dataclasses.fields(cls)
    if len(fields) != len(cls.__dict__["__dataclass_fields__"]):  # ClassVar or InitVar pseudo-fields
        return dataclasses.dataclass(cls, **options)
    _check_defaults(fields)
    setattr(cls, _QUICK, frozen)
    _add(cls, "__init__", _lazy_init(cls))
    if options.get("repr", True):
        _add(cls, "__repr__", _repr(tuple(f.name for f in fields if f.repr)))
    if eq:
        _add(cls, "__eq__", _eq(_key(tuple(f.name for f in fields if f.compare))))
        class_hash = cls.__dict__.get("__hash__", MISSING)
        if class_hash is MISSING or (class_hash is None and "__eq__" in cls.__dict__):  # no explicit __hash__
            if frozen:
                hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
                _add(cls, "__hash__", _hash(_key(hashed)), replace=True)
            else:
                cls.__hash__ = None  # type: ignore[assignment]  # mutable and compared: unhashable
    if frozen:
        setter, deleter = _frozen(cls, frozenset(f.name for f in fields))
        _add(cls, "__setattr__", setter)
        _add(cls, "__delattr__", deleter)
    return cls


def _quick_bases(cls: type) -> bool:
    """Whether every dataclass among the bases of ``cls`` was made here (a standard one is left to dataclasses)."""
    return all(hasattr(base, _QUICK) for base in cls.__mro__[1:] if "__dataclass_fields__" in base.__dict__)


def _add(cls: type, name: str, method: Callable, replace: bool = False) -> None:
    """Set ``method`` as ``cls.name`` unless the class body defines it (``replace``: set it anyway)."""
    if replace or name not in cls.__dict__:
        method.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, method)


def _check_defaults(fields: tuple[dataclasses.Field, ...]) -> None:
    """TypeError, as dataclass raises it, when a positional field without default follows one with."""
    seen_default = False
    for f in fields:
        if not f.init or f.kw_only:
            continue
        if f.default is MISSING and f.default_factory is MISSING:
            if seen_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
        else:
            seen_default = True


def _key(names: tuple[str, ...]) -> Callable[[Any], tuple]:
    """A function returning the tuple of the attributes ``names`` of an object."""
    if len(names) > 1:
        return attrgetter(*names)
    if len(names) == 1:
        get = attrgetter(names[0])
        return lambda obj: (get(obj),)
    return lambda obj: ()


def _eq(key: Callable[[Any], tuple]) -> Callable[[Any, Any], Any]:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    return __eq__


def _hash(key: Callable[[Any], tuple]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(key(self))

    return __hash__


def _repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    @recursive_repr()
    def __repr__(self: Any) -> str:
        shown = []
        for name in names:  # a loop, not a generator: nested nodes take two frames a level, as dataclass's do
            shown.append(f"{name}={getattr(self, name)!r}")
        return f"{self.__class__.__qualname__}({', '.join(shown)})"

    return __repr__


def _frozen(cls: type, names: frozenset[str]) -> tuple[Callable, Callable]:
    """The frozen ``__setattr__`` and ``__delattr__`` of ``cls`` (fields ``names``), as dataclass writes them."""

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return __setattr__, __delattr__


def _lazy_init(cls: type) -> Callable[..., None]:
    """An ``__init__`` that compiles the real one of ``cls`` at its first call, installs it and calls it."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init = compile_init(cls)
        if cls.__dict__.get("__init__") is __init__:
            cls.__init__ = init  # type: ignore[misc]
        init(self, *args, **kwargs)

    return __init__


def compile_init(cls: type) -> Callable[..., None]:
    """The ``__init__`` of the dataclass ``cls`` made here, compiled: what ``dataclasses.dataclass`` writes
    (each field set, with ``object.__setattr__`` when frozen; a default_factory called when its argument is not
    given; fields with ``init=False`` set from their default or factory; ``__post_init__`` called last)."""
    frozen = cls.__dict__[_QUICK]
    positional, keyword, body = [], [], []
    namespace: dict[str, Any] = {"__fd_set__": object.__setattr__, "__fd_factory__": _FACTORY}
    for index, f in enumerate(dataclasses.fields(cls)):
        default, value = f"__fd_default_{index}__", f.name
        if f.default_factory is not MISSING:
            namespace[default] = f.default_factory
            if f.init:
                value = f"{default}() if {f.name} is __fd_factory__ else {f.name}"
                default = "__fd_factory__"
            else:
                value = f"{default}()"
        elif f.default is not MISSING:
            namespace[default] = f.default
            if not f.init:
                value = default
        elif not f.init:
            continue
        if f.init:
            parameter = f.name if f.default is MISSING and f.default_factory is MISSING else f"{f.name}={default}"
            (keyword if f.kw_only else positional).append(parameter)
        body.append(f"    __fd_set__(__fd_self__, {f.name!r}, {value})" if frozen
                    else f"    __fd_self__.{f.name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("    __fd_self__.__post_init__()")
    parameters = ", ".join(["__fd_self__", *positional, *(["*", *keyword] if keyword else [])])
    source = f"def __init__({parameters}):\n" + ("\n".join(body) or "    pass") + "\n"
    exec(source, namespace)  # noqa: S102 - source built from the field names of a class, as dataclasses does
    init = namespace["__init__"]
    init.__annotations__ = {f.name: f.type for f in dataclasses.fields(cls) if f.init} | {"return": None}
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init
