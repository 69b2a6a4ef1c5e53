"""Where ``pyudf('module:function')`` finds its module: next to the script first, as ``python script.py`` does.

The module of a pyudf is imported by name. When the script (or the included file) naming it lies in a directory
that holds the module (``udfs.py`` or a package ``udfs/``, the first part of a dotted name), that directory goes
to the front of ``sys.path`` before the import; a script without a file (the REPL, standard input,
``meteor.query``) looks in the working directory the same way. The directory stays on ``sys.path`` for the rest
of the process: the run's worker processes take the client's search path
(``pact_backend.executors.modules.client_path``) to import the same module when they unpickle the UDF.
"""

from __future__ import annotations

import os
import sys


def holds_module(directory: str, module_name: str) -> bool:
    """Whether ``directory`` has the top-level module of ``module_name`` (``a.b`` -> ``a.py`` or ``a/``)."""
    top = module_name.split(".")[0]
    return (os.path.isfile(os.path.join(directory, top + ".py"))
            or os.path.isfile(os.path.join(directory, top, "__init__.py")))


def make_importable(module_name: str, script_path: str | None) -> str | None:
    """Put the directory of ``script_path`` (None: the working directory) first on ``sys.path`` when it holds
    ``module_name``; returns that directory, or None when the module is not there (the import then searches
    ``sys.path`` as usual)."""
    try:
        base = os.path.dirname(os.path.abspath(script_path)) if script_path else os.getcwd()
    except FileNotFoundError:  # the working directory was deleted
        return None
    if not holds_module(base, module_name):
        return None
    entries = [os.path.abspath(p or os.curdir) for p in sys.path]
    if base in entries:
        sys.path.remove(sys.path[entries.index(base)])
    sys.path.insert(0, base)
    return base


__all__ = ["holds_module", "make_importable"]
