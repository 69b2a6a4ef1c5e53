"""Entry points of the installed distributions, read once per installation instead of once per start.

Executors (``meteor.executors``) and operator packages (``meteor.packages``) are found through entry points.
Asking ``importlib.metadata`` for them imports it (with ``email``, ``zipfile``, ``csv``, ...) and reads the
metadata of every installed distribution: about a sixth of a trivial ``meteor run``'s start-up. So the entry
points of the groups in ``GROUPS`` are kept as JSON in the user's cache directory (``$XDG_CACHE_HOME/meteor/entry-points-*.json``,
default ``~/.cache/meteor``, the directory of the parser cache, docs/security.md) together with a fingerprint
of the installation: the interpreter and the ``.dist-info`` (and ``.egg-info``) directories in every
``sys.path`` entry with their modification times (installing, upgrading or removing a distribution adds,
replaces or removes one). A cache whose fingerprint differs is rebuilt from ``importlib.metadata``.

Like the parser cache, the file is used only in a real directory owned by the user with mode 0700 and only
when it is a regular file owned by the user that nobody else can write (its entries name modules that would
be imported); otherwise, and whenever anything fails, the entry points come from ``importlib.metadata`` and
nothing is written. ``METEOR_NO_ENTRY_POINT_CACHE=1`` turns the cache off.
"""

from __future__ import annotations

import importlib
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

from pact_backend.quick_dataclass import dataclass

GROUPS = ("meteor.executors", "meteor.packages")
_FORMAT = "meteor-entry-points-1"
_MEMO: dict[str, Any] = {}  # this process's answer: {"key": fingerprint, "groups": {...}}


@dataclass(frozen=True)
class Distribution:
    """The distribution an entry point comes from: ``name`` and ``version`` (as importlib.metadata's)."""

    name: str
    version: str


@dataclass(frozen=True)
class EntryPoint:
    """One entry point: ``name``, ``value`` (``module:attr.attr``, optionally followed by ``[extras]``),
    ``group`` and ``dist`` (a Distribution or None); ``load()`` imports the module and returns the object,
    as ``importlib.metadata.EntryPoint.load`` does (ImportError or AttributeError when it cannot)."""

    name: str
    value: str
    group: str
    dist: Distribution | None = None

    def load(self) -> Any:
        target = self.value.split("[", 1)[0].strip()
        module_name, _, attrs = target.partition(":")
        obj: Any = importlib.import_module(module_name.strip())
        for attr in filter(None, attrs.strip().split(".")):
            obj = getattr(obj, attr)
        return obj


def entry_points(group: str) -> list[EntryPoint]:
    """The entry points of ``group`` in the installed distributions (from the cache when it is current)."""
    if group not in GROUPS:
        return _scan((group,))[group]
    key = fingerprint()
    if _MEMO.get("key") != key:
        _MEMO.clear()
        _MEMO.update(key=key, groups=_cached(key))
    return list(_MEMO["groups"][group])


def fingerprint() -> list:
    """What the cached entry points depend on: the interpreter and, for each ``sys.path`` entry, the
    ``.dist-info``/``.egg-info`` directories in it with their modification times (installing, upgrading or
    removing a distribution adds, replaces or removes one; None for an entry that is no directory)."""
    entries = []
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as found:
                infos = sorted([e.name, e.stat().st_mtime_ns] for e in found
                               if e.name.endswith((".dist-info", ".egg-info")))
        except OSError:
            infos = None
        entries.append([entry, infos])
    return [_FORMAT, sys.executable, sys.version, entries]


def cache_file() -> Path:
    """``$XDG_CACHE_HOME/meteor/entry-points-<hash>.json`` (``~/.cache`` when the variable is unset or
    relative); the hash is of the interpreter and ``sys.path``, so installations do not overwrite each other's."""
    from pact_backend.digest import blake2b

    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    digest = blake2b("\n".join([sys.executable, *sys.path]).encode(), digest_size=12).hexdigest()
    return root / "meteor" / f"entry-points-{digest}.json"


def _cached(key: list) -> dict[str, list[EntryPoint]]:
    """The entry points of GROUPS: from the cache file when its fingerprint is ``key``, else scanned (and
    saved when the cache directory is safe)."""
    if os.environ.get("METEOR_NO_ENTRY_POINT_CACHE") or not hasattr(os, "getuid"):
        return _scan(GROUPS)
    path = cache_file()
    saved = _read(path)
    if saved is not None and saved.get("key") == key:
        try:
            return {group: [EntryPoint(n, v, group, Distribution(d, ver) if d is not None else None)
                            for n, v, d, ver in saved["groups"][group]] for group in GROUPS}
        except (KeyError, TypeError, ValueError):
            pass  # a damaged file is rebuilt
    groups = _scan(GROUPS)
    _write(path, {"key": key, "groups": {g: [[e.name, e.value, *(_dist(e) or (None, None))] for e in eps]
                                         for g, eps in groups.items()}})
    return groups


def _dist(ep: EntryPoint) -> tuple[str, str] | None:
    return (ep.dist.name, ep.dist.version) if ep.dist is not None else None


def _scan(groups: tuple[str, ...]) -> dict[str, list[EntryPoint]]:
    """The entry points of ``groups`` as importlib.metadata reads them from the installed distributions."""
    from importlib import metadata

    found: dict[str, list[EntryPoint]] = {group: [] for group in groups}
    for group in groups:
        for ep in metadata.entry_points(group=group):
            dist = getattr(ep, "dist", None)
            found[group].append(EntryPoint(ep.name, ep.value, group,
                                           Distribution(dist.name, dist.version) if dist is not None else None))
    return found


def _safe_dir(directory: Path) -> bool:
    """Whether ``directory`` is (or was just made) a real directory of this user with mode 0700."""
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(directory)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def _read(path: Path) -> dict | None:
    """The JSON object at ``path`` when the file and its directory are safely the user's, else None."""
    if not _safe_dir(path.parent):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
            return None
        try:
            value = json.loads(file.read())
        except (OSError, ValueError):
            return None
    return value if isinstance(value, dict) else None


def _write(path: Path, value: dict) -> None:
    """Write ``value`` as JSON to ``path`` atomically (a 0600 temp file renamed), when the directory is safe."""
    if not _safe_dir(path.parent):
        return
    import tempfile

    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".entry-points-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(value, file)
        os.replace(temp, path)
    except OSError:
        Path(temp).unlink(missing_ok=True)
