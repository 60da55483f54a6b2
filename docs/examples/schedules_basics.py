"""A schedule: two clocks in Berlin time, filters, an adjustment, and per-clock parameters."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from weir.schedules import CronClock, IntervalClock, Schedule, adjustments, filters

berlin = ZoneInfo("Europe/Berlin")
schedule = Schedule(
    clocks=[
        # every 2 hours from 08:00 Berlin time
        IntervalClock(timedelta(hours=2), start_date=datetime(2024, 1, 1, 8, tzinfo=berlin)),
        # and a nightly run with its own parameter and agent label
        CronClock(
            "30 23 * * *",
            start_date=datetime(2024, 1, 1, tzinfo=berlin),
            parameter_defaults={"full": True},
            labels=["big-machine"],
        ),
    ],
    filters=[filters.is_weekday],  # Monday to Friday
    not_filters=[filters.between_times(time(12), time(13))],  # not over lunch
    adjustments=[adjustments.add(timedelta(minutes=5))],  # five past
)

for when in schedule.next(4, after=datetime(2024, 3, 8, 17, tzinfo=berlin)):
    print(when.isoformat())

event = schedule.next(4, after=datetime(2024, 3, 8, 17, tzinfo=berlin), return_events=True)[-1]
print(event.parameter_defaults, event.labels)
