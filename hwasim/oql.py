"""OQL (Orchestration Query Language) parser and evaluator for the simulator.

Grammar follows the HWA manual's subset: ``field op value`` terms joined with AND/OR,
parentheses, ``[a, b]`` lists, ``LIKE`` with ``@`` (any string) and ``?`` (one character)
wildcards, and an optional trailing ``ORDER BY field [ASC|DESC]``.

Evaluation is against plain Python objects through a *field resolver*: a mapping from the
OQL field name to a function returning the list of values the object has for that field
(multi-valued fields such as ``jobruns.returnCode`` match when any value matches).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

GRAMMAR = r"""
?start: query
query: expr order_by?
?expr: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: atom (_AND atom)*
?atom: "(" expr ")"
     | term
term: FIELD OP value          -> compare
    | FIELD _IN value_list          -> in_list
    | FIELD _NOT _IN value_list     -> not_in_list
    | FIELD _LIKE STRING      -> like
    | FIELD _NOT _LIKE STRING -> not_like
value_list: "[" [value ("," value)*] "]"
?value: STRING      -> string
      | NUMBER      -> number
      | _TRUE       -> true
      | _FALSE      -> false
      | _NULL       -> null
order_by: _ORDER _BY order_item ("," order_item)*
order_item: FIELD DIRECTION?

_OR.2: /OR\b/i
_AND.2: /AND\b/i
_NOT.2: /NOT\b/i
_IN.2: /IN\b/i
_LIKE.2: /LIKE\b/i
_ORDER.2: /ORDER\b/i
_BY.2: /BY\b/i
_TRUE.2: /true\b/i
_FALSE.2: /false\b/i
_NULL.2: /null\b/i
DIRECTION.2: /(ASC|DESC)\b/i
OP: "<=" | ">=" | "!=" | "=" | "<" | ">"
FIELD: /[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/
STRING: /'(\\.|''|[^'\\])*'/
NUMBER: /-?\d+(\.\d+)?/
%import common.WS
%ignore WS
"""

_PARSER = Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)


class OQLError(ValueError):
    """Malformed OQL or an unknown field; the message says where."""


Predicate = Callable[[Any], bool]
FieldResolver = Callable[[Any], list[Any]]


@dataclass(frozen=True)
class OrderItem:
    field: str
    descending: bool


@dataclass(frozen=True)
class CompiledQuery:
    predicate: Predicate
    order_by: tuple[OrderItem, ...]


def _unquote(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)|''", lambda m: m.group(1) if m.group(1) is not None else "'", body)


def like_to_regex(pattern: str) -> re.Pattern[str]:
    """Translate an OQL LIKE pattern (``@`` any string, ``?`` one char) to a regex."""
    parts = []
    for ch in pattern:
        if ch == "@":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.DOTALL)


def _normalise(value: Any) -> Any:
    """Make values comparable: instants and durations compare as their ISO strings' meaning."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def _coerce_literal(literal: Any, sample: Any) -> Any:
    """Coerce a string literal to the type of the field value it is compared with."""
    if isinstance(sample, datetime) and isinstance(literal, str):
        try:
            return datetime.fromisoformat(literal.replace("Z", "+00:00"))
        except ValueError:
            return literal
    if isinstance(sample, bool) and isinstance(literal, str):
        return literal.lower() == "true"
    return literal


def _compare(op: str, left: Any, right: Any) -> bool:
    left = _normalise(left)
    right = _coerce_literal(right, left)
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        if op == ">=":
            return bool(left >= right)
    except TypeError:
        return False
    raise OQLError(f"unknown operator {op!r}")


@v_args(inline=True)
class _Compiler(Transformer[Token, Any]):
    def __init__(self, fields: Mapping[str, FieldResolver]) -> None:
        super().__init__()
        self.fields = fields

    def _resolver(self, token: Token) -> FieldResolver:
        name = str(token)
        resolver = self.fields.get(name)
        if resolver is None:
            raise OQLError(
                f"unknown field {name!r} at column {token.column}; known fields: {', '.join(sorted(self.fields))}"
            )
        return resolver

    def string(self, token: Token) -> str:
        return _unquote(str(token))

    def number(self, token: Token) -> int | float:
        text = str(token)
        return float(text) if "." in text else int(text)

    def true(self) -> bool:
        return True

    def false(self) -> bool:
        return False

    def null(self) -> None:
        return None

    def value_list(self, *values: Any) -> list[Any]:
        return [*values]

    def compare(self, field: Token, op: Token, value: Any) -> Predicate:
        resolver, operator = self._resolver(field), str(op)
        if value is None:
            if operator == "=":
                return lambda obj: all(v is None for v in resolver(obj))
            if operator == "!=":
                return lambda obj: any(v is not None for v in resolver(obj))
        return lambda obj: any(_compare(operator, v, value) for v in resolver(obj))

    def in_list(self, field: Token, values: list[Any]) -> Predicate:
        resolver = self._resolver(field)
        return lambda obj: any(_compare("=", v, item) for v in resolver(obj) for item in values)

    def not_in_list(self, field: Token, values: list[Any]) -> Predicate:
        inner = self.in_list(field, values)
        return lambda obj: not inner(obj)

    def like(self, field: Token, pattern: Token) -> Predicate:
        resolver, regex = self._resolver(field), like_to_regex(_unquote(str(pattern)))
        return lambda obj: any(isinstance(v, str) and regex.fullmatch(v) is not None for v in resolver(obj))

    def not_like(self, field: Token, pattern: Token) -> Predicate:
        inner = self.like(field, pattern)
        return lambda obj: not inner(obj)

    def and_expr(self, *preds: Predicate) -> Predicate:
        return lambda obj: all(p(obj) for p in preds)

    def or_expr(self, *preds: Predicate) -> Predicate:
        return lambda obj: any(p(obj) for p in preds)

    def order_item(self, field: Token, direction: Token | None = None) -> OrderItem:
        self._resolver(field)
        return OrderItem(str(field), direction is not None and str(direction).upper() == "DESC")

    def order_by(self, *items: OrderItem) -> tuple[OrderItem, ...]:
        return items

    def query(self, predicate: Predicate, order: tuple[OrderItem, ...] = ()) -> CompiledQuery:
        return CompiledQuery(predicate, order)


def compile_oql(text: str, fields: Mapping[str, FieldResolver]) -> CompiledQuery:
    """Parse ``text`` and compile it into a predicate plus ordering, or raise OQLError."""
    if not text or not text.strip():
        return CompiledQuery(lambda obj: True, ())
    try:
        tree = _PARSER.parse(text)
    except UnexpectedEOF as exc:
        raise OQLError(f"OQL ended unexpectedly; expected one of: {', '.join(sorted(exc.expected))}") from exc
    except UnexpectedCharacters as exc:
        pos = exc.pos_in_stream or 0
        raise OQLError(
            f"unexpected character {text[pos]!r} at column {exc.column}: ...{text[max(0, pos - 10) : pos + 10]}..."
        ) from exc
    except UnexpectedToken as exc:
        found = "end of query" if exc.token.type == "$END" else repr(str(exc.token))
        raise OQLError(f"unexpected {found} at column {exc.column}") from exc
    except UnexpectedInput as exc:  # pragma: no cover - other lark input errors
        raise OQLError(f"malformed OQL at column {getattr(exc, 'column', '?')}") from exc
    try:
        compiled = _Compiler(fields).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, OQLError):
            raise exc.orig_exc from None
        raise
    if not isinstance(compiled, CompiledQuery):  # pragma: no cover - grammar guarantees it
        raise OQLError("malformed OQL")
    return compiled


def apply_order(objs: list[Any], order: tuple[OrderItem, ...], fields: Mapping[str, FieldResolver]) -> list[Any]:
    """Stable multi-key sort; objects without a value sort last."""
    for item in reversed(order):
        resolver = fields[item.field]

        def key(obj: Any, resolver: FieldResolver = resolver) -> tuple[int, Any]:
            values = [v for v in resolver(obj) if v is not None]
            return (0, _normalise(values[0])) if values else (1, 0)

        present = [o for o in objs if key(o)[0] == 0]
        missing = [o for o in objs if key(o)[0] == 1]
        present.sort(key=lambda o, k=key: k(o)[1], reverse=item.descending)  # type: ignore[misc]
        objs = present + missing
    return objs
