"""meteor: the Meteor query language over Sopremo operators and PACT programs (VLDB J. 2014).

From Python, ``meteor.query(script, **inputs)`` runs a script and returns its last data set as a ``Result``
(``.records()``, ``.to_pandas()``, ``.to_arrow()``, ``.to_polars()``, ``.explain()``); user errors are
``meteor.MeteorError``. ``%load_ext meteor`` in IPython or Jupyter adds the ``%%meteor`` cell magic
(meteor/notebook.py); both live in meteor/python_query.py. ``meteor.api`` compiles and runs script files. Nothing heavy is imported until first used,
so ``import meteor`` (and the ``meteor`` command) stays quick to start.
"""

from __future__ import annotations

__all__ = ["MeteorError", "Result", "load_ipython_extension", "query"]


def __getattr__(name: str) -> object:
    """``query``, ``Result`` and ``MeteorError``, imported on first access."""
    if name in ("query", "Result"):
        from meteor import python_query as module

        value = getattr(module, name)
    elif name == "MeteorError":
        from sopremo.errors import MeteorError as value
    else:
        raise AttributeError(f"module 'meteor' has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext meteor``: register the ``%%meteor`` cell magic (meteor/notebook.py) in ``ipython``."""
    from meteor.notebook import register

    register(ipython)
