"""The tools Resync ships; importing this package registers them."""

from . import proactive, read, write

__all__ = ["proactive", "read", "write"]
