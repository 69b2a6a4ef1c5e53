"""``dataclass`` of pact_backend/quick_dataclass.py for the layers above: the standard decorator without compiling
code when a class is made, for the IR classes every run loads (start-up, docs/benchmarks.md)."""

from pact_backend.quick_dataclass import dataclass

__all__ = ["dataclass"]
