"""The rule classifier: query type, language and entities of a question, from the operators'
vocabulary (the offline default, and always the first pass)."""

from .rules import KnownNames, classify

__all__ = ["KnownNames", "classify"]
