"""Standard five-field cron schedules, as the CronJob controller reads them (in UTC).

Fields: minute, hour, day of month, month, day of week, each `*`, a number, a range `a-b`,
a step `*/n` or `a-b/n`, or a comma list of those; month and weekday names (`jan`, `mon`)
and the macros `@hourly`, `@daily`, `@midnight`, `@weekly`, `@monthly`, `@yearly`,
`@annually`. As in cron, when both day fields are restricted a day matching either runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_SEARCH_LIMIT = timedelta(days=366 * 5)


class ScheduleError(ValueError):
    """The schedule is not a valid cron expression."""


def _value(text: str, field: int) -> int:
    names = _MONTHS if field == 3 else _DAYS if field == 4 else []
    lowered = text.lower()
    if lowered in names:
        return names.index(lowered) + (1 if field == 3 else 0)
    if not text.isdigit():
        raise ScheduleError(f"failed to parse int from {text}: invalid syntax")
    return int(text)


def _field(text: str, field: int) -> frozenset[int]:
    low, high = _BOUNDS[field]
    values: set[int] = set()
    for part in text.split(","):
        span, _, step_text = part.partition("/")
        step = _value(step_text, field) if step_text else 1
        if span in ("*", "?"):
            start, end = low, high
        elif "-" in span:
            first, _, last = span.partition("-")
            start, end = _value(first, field), _value(last, field)
        else:
            start = _value(span, field)
            end = high if step_text else start
        if start < low or end > high or start > end or step < 1:
            raise ScheduleError(f"end of range ({end}) above maximum ({high}): {part}")
        values.update(range(start, end + 1, step))
    if field == 4 and 7 in values:
        values = (values - {7}) | {0}
    return frozenset(values)


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule; `next_after` is the first run strictly after a moment."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    def _day_matches(self, moment: datetime) -> bool:
        day_ok = moment.day in self.days
        weekday_ok = (moment.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return day_ok and weekday_ok
        return day_ok or weekday_ok

    def matches(self, moment: datetime) -> bool:
        """Return whether the schedule fires at this minute."""
        return (
            moment.minute in self.minutes
            and moment.hour in self.hours
            and moment.month in self.months
            and self._day_matches(moment)
        )

    def next_after(self, moment: datetime) -> datetime | None:
        """Return the first run after `moment` (None if none within five years)."""
        t = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = moment + _SEARCH_LIMIT
        while t <= limit:
            if t.month not in self.months:
                month = t.month % 12 + 1
                t = t.replace(year=t.year + (t.month == 12), month=month, day=1, hour=0, minute=0)
            elif not self._day_matches(t):
                t = (t + timedelta(days=1)).replace(hour=0, minute=0)
            elif t.hour not in self.hours:
                t = (t + timedelta(hours=1)).replace(minute=0)
            elif t.minute not in self.minutes:
                t += timedelta(minutes=1)
            else:
                return t
        return None


def parse(expression: str) -> Schedule:
    """Parse a cron expression; raise ScheduleError when it is not one."""
    text = MACROS.get(expression.strip(), expression.strip())
    fields = text.split()
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: {expression}")
    minutes, hours, days, months, weekdays = (_field(f, i) for i, f in enumerate(fields))
    return Schedule(
        minutes,
        hours,
        days,
        months,
        weekdays,
        any_day=fields[2] in ("*", "?"),
        any_weekday=fields[4] in ("*", "?"),
    )
