"""The tools Resync ships; importing this package registers them."""

from . import diagnose, operations, proactive, read, write

__all__ = ["diagnose", "operations", "proactive", "read", "write"]
