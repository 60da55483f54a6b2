"""``weir.schedules.schedules``: Prefect 1's module path for Schedule and its shorthands."""

from weir.schedules.schedule import CronSchedule, IntervalSchedule, RRuleSchedule, Schedule

__all__ = ["CronSchedule", "IntervalSchedule", "RRuleSchedule", "Schedule"]
