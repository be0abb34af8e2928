"""A safe OQL builder: field names are checked against the documented fields, values are always
quoted and escaped, and control characters are refused — user text never becomes query syntax.

    >>> str(field("name").eq("PAYROLL_NIGHTLY") & field("workstation").eq("/AGT1"))
    "(name = 'PAYROLL_NIGHTLY' AND workstation = '/AGT1')"
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from .errors import HWAQueryError

Value = str | int | float | bool | datetime | None

#: documented OQL fields of jobs in plan (notes §9)
JOB_FIELDS = frozenset(
    {
        "name",
        "folder",
        "folderId",
        "id",
        "workstation",
        "jobStreamId",
        "jobStreamName",
        "jobStreamWorkstation",
        "priority",
        "schedTime",
        "jobruns.commonStatus",
        "jobruns.compositeStatus.status",
        "jobruns.returnCode",
        "jobruns.rerunType",
        "jobruns.actualWorkstation",
        "jobruns.jobNumber",
        "jobruns.timeInfo.actualStartTime",
        "jobruns.timeInfo.actualEndTime",
        "jobruns.maxDurationGone",
        "jobDefinition.userLogin",
        "jobDefinition.workstation",
        "jobDefinition.taskType",
        "jobOptions.critical",
        "jobOptions.requiresConfirmation",
        "dependencies.dependencyStatus",
        "dependencies.jobId",
        "dependencies.jobStreamId",
        "dependencies.jobStreamName",
        "dependencies.jobStreamWorkstation",
        "timeRestrictions.deadlineTime",
        "timeRestrictions.startTime",
    }
)
JOBSTREAM_FIELDS = frozenset(
    {
        "name",
        "folder",
        "id",
        "workstation",
        "schedTime",
        "commonStatus",
        "compositeStatus.status",
        "priority",
        "limit",
        "originalJobStreamName",
        "aliasJobStreamName",
        "timeInfo.actualEndTime",
        "timeRestrictions.deadlineTime",
        "timeRestrictions.startTime",
        "timeRestrictions.untilTime",
        "dependencies.jobStreamId",
        "dependencies.jobStreamName",
    }
)
WORKSTATION_FIELDS = frozenset({"name", "id", "folder", "domainName", "type", "activeStates", "jobmanUp"})

Kind = Literal["job", "jobstream", "workstation"]
_FIELDS: dict[str, frozenset[str]] = {
    "job": JOB_FIELDS,
    "jobstream": JOBSTREAM_FIELDS,
    "workstation": WORKSTATION_FIELDS,
}
MAX_VALUE_LENGTH = 1024


def literal(value: Value) -> str:
    """Render one value as an OQL literal; strings are quoted with ``\\`` escapes."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return "'" + moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z") + "'"
    if not isinstance(value, str):
        raise HWAQueryError(f"unsupported OQL value type {type(value).__name__}")
    if len(value) > MAX_VALUE_LENGTH:
        raise HWAQueryError(f"OQL value longer than {MAX_VALUE_LENGTH} characters")
    bad = [ch for ch in value if unicodedata.category(ch) in {"Cc", "Cf"}]
    if bad:
        raise HWAQueryError(f"control character {bad[0]!r} not allowed in an OQL value")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class Condition:
    """A rendered, safe OQL condition; combine with ``&`` and ``|``."""

    text: str

    def __and__(self, other: Condition) -> Condition:
        return Condition(f"({self.text} AND {other.text})")

    def __or__(self, other: Condition) -> Condition:
        return Condition(f"({self.text} OR {other.text})")

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Field:
    name: str

    def _op(self, op: str, value: Value) -> Condition:
        return Condition(f"{self.name} {op} {literal(value)}")

    def eq(self, value: Value) -> Condition:
        return self._op("=", value)

    def ne(self, value: Value) -> Condition:
        return self._op("!=", value)

    def lt(self, value: Value) -> Condition:
        return self._op("<", value)

    def le(self, value: Value) -> Condition:
        return self._op("<=", value)

    def gt(self, value: Value) -> Condition:
        return self._op(">", value)

    def ge(self, value: Value) -> Condition:
        return self._op(">=", value)

    def in_(self, values: Iterable[Value]) -> Condition:
        return Condition(f"{self.name} IN [{', '.join(literal(v) for v in values)}]")

    def not_in(self, values: Iterable[Value]) -> Condition:
        return Condition(f"{self.name} NOT IN [{', '.join(literal(v) for v in values)}]")

    def like(self, pattern: str) -> Condition:
        """``@`` matches any string and ``?`` one character: pass user text through ``eq`` instead."""
        return Condition(f"{self.name} LIKE {literal(pattern)}")

    def not_like(self, pattern: str) -> Condition:
        return Condition(f"{self.name} NOT LIKE {literal(pattern)}")


def field(name: str, kind: Kind = "job") -> Field:
    """A documented field of ``kind``; anything else is refused before it reaches the engine."""
    if name not in _FIELDS[kind]:
        raise HWAQueryError(f"unknown {kind} field {name!r}")
    return Field(name)


def all_of(*conditions: Condition | None) -> Condition | None:
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    result = present[0]
    for condition in present[1:]:
        result = result & condition
    return result


def query(where: Condition | None, order_by: str | None = None, descending: bool = False, kind: Kind = "job") -> str:
    """The full OQL text: the condition and an optional ``ORDER BY``."""
    text = where.text if where is not None else ""
    if order_by is not None:
        field(order_by, kind)
        text = f"{text} ORDER BY {order_by} {'DESC' if descending else 'ASC'}".strip()
    return text
