"""The tools Resync ships; importing this package registers them."""

from . import diagnose, proactive, read, write

__all__ = ["diagnose", "proactive", "read", "write"]
