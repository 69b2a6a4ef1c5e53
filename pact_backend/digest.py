"""``blake2b``, hashlib's own, imported without loading OpenSSL.

``import hashlib`` initialises OpenSSL (its ``_hashlib`` module) for the algorithms OpenSSL provides, which
costs 15 to 25 ms, a tenth of a trivial ``meteor run``; BLAKE2 is never OpenSSL's in CPython: hashlib takes
``blake2b`` from the built-in ``_blake2`` module, which is imported here directly. Digests are the same.
"""

from __future__ import annotations

try:
    from _blake2 import blake2b
except ImportError:  # an interpreter without the built-in module: hashlib's (which then loads OpenSSL)
    from hashlib import blake2b

__all__ = ["blake2b"]
