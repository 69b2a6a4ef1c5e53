"""Building LALR parsers once per user: tables cached in a directory only the user can write.

Building the parser of a grammar takes seconds; loading its tables takes milliseconds. Lark's own
``cache=True`` keeps them as a pickle at a predictable name in the shared temp directory, so another local user
who plants that file runs code as whoever parses next. Here the tables live in ``$XDG_CACHE_HOME/meteor``
(default ``~/.cache/meteor``), which must be a real directory owned by the user with mode 0700 (created so when
missing); a cache file must be a regular file owned by the user that nobody else can write, and it is
read with an unpickler that refuses every class and function, so even a tampered file yields plain data only
(Lark's serialised tables are dicts, lists, tuples, strings and numbers). Whatever fails a check is ignored
and the parser is built from the grammar; a refused directory is named once on stderr (docs/security.md).
"""

from __future__ import annotations

import io
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path

try:
    from _blake2 import blake2b  # hashlib's BLAKE2 without hashlib, whose import initialises OpenSSL (~20 ms)
except ImportError:
    from hashlib import blake2b

from meteor.lark_runtime import VERSION, Lark, LazyContextualLexer, QuickTableParser, Rule, TerminalDef, quick_memo

_FORMAT = "meteor-parser-1"
_warned: set[str] = set()


class _PlainData(pickle.Unpickler):
    """An unpickler of plain data: loading any class or function (the way a pickle runs code) is refused."""

    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"refusing {module}.{name} in a parser cache file")


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/meteor`` when that variable holds an absolute path, else ``~/.cache/meteor``."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "meteor"


def cache_file(grammar: str, options: dict) -> Path:
    """Where the tables of ``grammar`` built with ``options`` are cached (keyed by a hash of both and the
    Lark and Python versions)."""
    key = "\n".join((_FORMAT, VERSION, sys.version, repr(sorted(options.items())), grammar))
    return cache_dir() / f"parser-{blake2b(key.encode(), digest_size=16).hexdigest()}.pickle"


def cached_lark(grammar: str, **options) -> Lark:
    """The LALR parser of ``grammar`` (Lark ``options``), loaded from the user's cache or built and saved."""
    path = cache_file(grammar, options)
    directory = _private_dir(path.parent)
    if directory is not None:
        parser = _load(path)
        if parser is not None:
            return parser
    parser = Lark(grammar, **options)
    if directory is not None:
        _save(parser, path)
    return parser


def _private_dir(directory: Path) -> Path | None:
    """``directory`` when it is (or was just made) a real directory owned by this user with mode 0700."""
    if not hasattr(os, "getuid"):
        return None  # no owner or mode to check: no cache
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(directory)
    except OSError as exc:
        return _refuse(directory, exc.strerror or str(exc))
    if not stat.S_ISDIR(info.st_mode):
        return _refuse(directory, "not a directory")
    if info.st_uid != os.getuid():
        return _refuse(directory, f"owned by uid {info.st_uid}, not by you")
    if info.st_mode & 0o077:
        return _refuse(directory, f"mode {stat.S_IMODE(info.st_mode):o}; run chmod 700 on it")
    return directory


def _refuse(directory: Path, why: str) -> None:
    if str(directory) not in _warned:
        _warned.add(str(directory))
        print(f"meteor: not using the parser cache {directory} ({why})", file=sys.stderr)
    return None


def _load(path: Path) -> Lark | None:
    """The parser cached at ``path``, or None when the file is missing, not safely ours, or not readable."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
            return None
        blob = file.read()
    try:
        tables = _PlainData(io.BytesIO(blob)).load()
        if tables.get("format") != _FORMAT:
            return None
        # how Lark's standalone parsers load, with the rules and terminals (quick_memo) and the parse table
        # (QuickTableParser) rebuilt quickly, and each state's lexer made when first used (LazyContextualLexer)
        return Lark._load_from_dict(tables["data"], quick_memo(tables["memo"]),
                                    _plugins={"LALR_Parser": QuickTableParser, "ContextualLexer": LazyContextualLexer})
    except Exception:  # noqa: BLE001 - a damaged cache file is rebuilt, never fatal
        return None


def _save(parser: Lark, path: Path) -> None:
    """Write ``parser``'s tables to ``path`` atomically (a 0600 temp file in the same directory, renamed)."""
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".parser-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as file:
            pickle.dump({"format": _FORMAT, "data": data, "memo": memo}, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temp, path)
    except OSError:
        Path(temp).unlink(missing_ok=True)
