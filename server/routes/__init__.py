"""Thin route handlers; the work happens in graph/ and tools/."""
