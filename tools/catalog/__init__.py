"""The tools Resync ships; importing this package registers them."""

from . import read, write

__all__ = ["read", "write"]
