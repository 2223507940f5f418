import datetime as dt

import pytest

from bot.handoff.hours import parse_staff_hours

UTC = dt.timezone.utc


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_weekday_hours_in_casablanca():
    hours = parse_staff_hours("Mon-Fri 09:00-17:00 Africa/Casablanca")
    # 2026-11-30 is a Monday; Casablanca is UTC+1 in November
    assert hours.is_open(at("2026-11-30T08:30:00"))  # 09:30 local
    assert not hours.is_open(at("2026-11-30T07:30:00"))  # 08:30 local
    assert not hours.is_open(at("2026-11-30T16:00:00"))  # 17:00 local: closed
    assert not hours.is_open(at("2026-11-29T10:00:00"))  # Sunday


def test_next_opening_skips_the_weekend():
    hours = parse_staff_hours("Mon-Fri 09:00-17:00 Africa/Casablanca")
    friday_evening = at("2026-11-27T18:00:00")
    opening = hours.next_opening(friday_evening)
    assert opening.weekday() == 0 and (opening.hour, opening.minute) == (9, 0)
    assert opening.astimezone(UTC) == at("2026-11-30T08:00:00")
    # before opening on a working day: the same morning
    early = hours.next_opening(at("2026-11-30T06:00:00"))
    assert early.date() == dt.date(2026, 11, 30)
    # when open: now
    now = at("2026-11-30T10:00:00")
    assert hours.next_opening(now) == now


def test_lists_wrapping_ranges_and_all_day():
    assert parse_staff_hours("Mon,Wed 10:00-12:00 UTC").days == frozenset({0, 2})
    assert parse_staff_hours("Sat-Mon 10:00-12:00 UTC").days == frozenset({5, 6, 0})
    always = parse_staff_hours("Mon-Sun 00:00-24:00 UTC")
    assert always.is_open(at("2026-11-29T23:59:00"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Mon-Fri 09:00-17:00",
        "Lun-Ven 09:00-17:00 UTC",
        "Mon-Fri 9h-17h UTC",
        "Mon-Fri 17:00-09:00 UTC",
        "Mon-Fri 09:00-25:00 UTC",
        "Mon-Fri 09:00-17:00 Mars/Olympus",
    ],
)
def test_bad_settings_are_refused(text):
    with pytest.raises(ValueError):
        parse_staff_hours(text)
