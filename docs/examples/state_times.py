"""A state's times: aware datetimes to read, seconds since the epoch underneath."""

from __future__ import annotations

from datetime import datetime, timezone

from weir.engine.state import Paused, Retrying

retry = Retrying(start_time=datetime(2030, 1, 1, tzinfo=timezone.utc))
print(repr(retry.start_time))  # an aware datetime, as in Prefect 1
print(retry.start_ts)  # the same instant in seconds, what the engine compares
print(retry.to_dict()["start_time"])  # what the server stores
print(Paused().start_time)  # a pause waits for a person: no start time
print(retry.timestamp.tzinfo)  # when the state was made, in UTC
