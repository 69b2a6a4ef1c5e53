"""Fixtures shared by several test modules (a session-scoped fixture must be defined once to be shared)."""

from conftest_dask import dask_cluster  # noqa: F401 - the session's Dask cluster (tests/conftest_dask.py)
