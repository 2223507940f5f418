"""Staff hours (``MDM_STAFF_HOURS``): are people there now, and if not, when will they be.

Format: days, hours, time zone, separated by spaces::

    Mon-Fri 09:00-17:00 Africa/Casablanca
    Mon,Wed,Fri 10:00-12:30 Europe/Paris
    Mon-Sun 00:00-24:00 UTC            # always open

Days are ``Mon Tue Wed Thu Fri Sat Sun``, as a range (``Mon-Fri``, wrapping ranges such as
``Sat-Tue`` allowed) or a comma list. ``24:00`` means the end of the day.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")


@dataclass(frozen=True)
class StaffHours:
    """When staff answer.

    Attributes:
        days: Weekdays (0 = Monday) with opening hours.
        start: Opening time, in ``tz``.
        end: Closing time, in ``tz`` (``None`` means midnight at the end of the day).
        tz: Time zone of the hours.
        text: The setting as written.

    """

    days: frozenset[int]
    start: dt.time
    end: dt.time | None
    tz: ZoneInfo
    text: str

    def is_open(self, at: dt.datetime) -> bool:
        """Tell whether staff are there at ``at``.

        Args:
            at: An aware datetime.

        Returns:
            True within the hours of an open day.

        """
        local = at.astimezone(self.tz)
        if local.weekday() not in self.days:
            return False
        now = local.time().replace(tzinfo=None)
        return now >= self.start and (self.end is None or now < self.end)

    def next_opening(self, at: dt.datetime) -> dt.datetime:
        """The next time staff arrive, strictly after ``at`` unless they are there.

        Args:
            at: An aware datetime.

        Returns:
            ``at`` itself (in ``tz``) when open, else the next opening time in ``tz``.

        """
        local = at.astimezone(self.tz)
        if self.is_open(local):
            return local
        for offset in range(0, 8):
            day = local.date() + dt.timedelta(days=offset)
            if day.weekday() not in self.days:
                continue
            opening = dt.datetime.combine(day, self.start, tzinfo=self.tz)
            if opening > local:
                return opening
        raise ValueError("no opening day")  # unreachable: parse() requires a day


def _days(spec: str) -> frozenset[int]:
    days: set[int] = set()
    for part in spec.lower().split(","):
        if "-" in part:
            first, last = part.split("-", 1)
            a, b = DAY_NAMES.index(first), DAY_NAMES.index(last)
            span = (b - a) % 7
            days.update((a + i) % 7 for i in range(span + 1))
        else:
            days.add(DAY_NAMES.index(part))
    return frozenset(days)


def parse_staff_hours(text: str) -> StaffHours:
    """Parse an ``MDM_STAFF_HOURS`` value.

    Args:
        text: For example ``Mon-Fri 09:00-17:00 Africa/Casablanca``.

    Returns:
        The parsed hours.

    Raises:
        ValueError: With the reason, when the text is not in the format above.

    """
    parts = text.split()
    if len(parts) != 3:
        raise ValueError("staff hours must be 'DAYS HH:MM-HH:MM TIMEZONE'")
    day_spec, hour_spec, zone = parts
    try:
        days = _days(day_spec)
    except ValueError:
        raise ValueError(f"unknown day in {day_spec!r} (use Mon..Sun)") from None
    match = _HOURS.fullmatch(hour_spec)
    if not match:
        raise ValueError(f"hours {hour_spec!r} must be HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if not (0 <= h1 < 24 and 0 <= m1 < 60 and 0 <= h2 <= 24 and 0 <= m2 < 60):
        raise ValueError(f"hours {hour_spec!r} out of range")
    if h2 == 24 and m2:
        raise ValueError("24:MM is not a time; use 24:00")
    start = dt.time(h1, m1)
    end = None if h2 == 24 else dt.time(h2, m2)
    if end is not None and end <= start:
        raise ValueError("closing time must be after opening time")
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r}") from None
    return StaffHours(days=days, start=start, end=end, tz=tz, text=text)
