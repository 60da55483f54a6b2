"""An RRuleClock (iCalendar rules, via dateutil) and pendulum dates, as Prefect 1 flows use."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from dateutil import rrule

from weir.schedules import IntervalClock, RRuleClock, Schedule

# 09:00 New York time on the first Monday of every month
first_monday = rrule.rrule(
    rrule.MONTHLY,
    byweekday=rrule.MO(1),
    dtstart=datetime(2024, 1, 1, 9, tzinfo=ZoneInfo("America/New_York")),
)
clocks = [RRuleClock(first_monday, parameter_defaults={"report": "monthly"})]

try:  # a Prefect 1 flow's pendulum dates work as they are
    import pendulum

    start = pendulum.datetime(2024, 1, 1, 9, tz="America/New_York")
    clocks.append(IntervalClock(pendulum.duration(weeks=1), start_date=start))
except ImportError:
    from datetime import timedelta

    start = datetime(2024, 1, 1, 9, tzinfo=ZoneInfo("America/New_York"))
    clocks.append(IntervalClock(timedelta(weeks=1), start_date=start))

schedule = Schedule(clocks=clocks)
after = datetime(2024, 2, 20, tzinfo=ZoneInfo("America/New_York"))
for event in schedule.next(4, after=after, return_events=True):
    print(event.start_time.isoformat(), event.parameter_defaults)

# Both clocks fire on March 4 at 09:00, with different parameters: one run each.
assert Schedule.deserialize(schedule.serialize()) == schedule
