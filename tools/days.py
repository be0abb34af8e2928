"""Production days: "today", "yesterday", "tonight" as the scheduler counts them. A day begins at the
engine's start of day — ``PRODUCTION_DAY_START`` when set, else the engine's ``startOfDay`` global
option (``GET /engine/configuration/startOfDay``, HHMM), else midnight UTC — and a job instance
belongs to the day that holds its ``schedTime``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # parsing a start of day (the settings' check) needs no scheduler client
    from .hwa import HWAClient

HHMM = re.compile(r"^(\d{1,2}):?(\d{2})$")
Day = Literal["today", "yesterday", "day_before", "last_night"]
DAYS_AGO = {"today": 0, "yesterday": 1, "day_before": 2}
NIGHT_SETTLED = timedelta(hours=8)  # a production day that began less long ago holds no night yet


def parse_start(text: str) -> time | None:
    """``"06:00"`` or optman's ``"0600"`` as a time; None for anything else."""
    match = HHMM.match(text.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        return None
    return time(int(match.group(1)), int(match.group(2)))


@dataclass
class ProductionDays:
    """Where production days begin, asked of the engine once (unless configured)."""

    client: HWAClient | None = None
    configured: time | None = None
    _engine: time | None = field(default=None, init=False)
    _asked: bool = field(default=False, init=False)

    async def start_of_day(self) -> time:
        if self.configured is not None:
            return self.configured
        if not self._asked and self.client is not None:
            from .hwa import HWAError

            try:
                self._engine = parse_start(await self.client.engine_option("startOfDay") or "")
                self._asked = True
            except HWAError:  # asked again next time; midnight meanwhile
                pass
        return self._engine or time(0, 0)

    async def bounds(self, days_ago: int = 0, now: datetime | None = None) -> tuple[datetime, datetime]:
        """[start, end) of the production day ``days_ago`` days before the one holding ``now``."""
        moment = now or datetime.now(UTC)
        start = datetime.combine(moment.date(), await self.start_of_day(), tzinfo=UTC)
        if start > moment:
            start -= timedelta(days=1)
        start -= timedelta(days=days_ago)
        return start, start + timedelta(days=1)

    async def day(self, which: Day, now: datetime | None = None) -> tuple[datetime, datetime]:
        """[start, end) of a named production day. ``last_night``: the current day once it is well
        under way (it began at least 8 hours ago, so its night is behind it), else the day before."""
        if which != "last_night":
            return await self.bounds(DAYS_AGO[which], now)
        moment = now or datetime.now(UTC)
        today = await self.bounds(0, moment)
        return today if moment - today[0] >= NIGHT_SETTLED else await self.bounds(1, moment)

    async def days_ago(self, moment: datetime, now: datetime | None = None) -> int:
        """How many production days before the current one ``moment`` lies (0: the current day)."""
        today, _ = await self.bounds(0, now)
        if moment >= today:
            return 0
        return (today - moment) // timedelta(days=1) + 1
