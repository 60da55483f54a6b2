"""The state a run is in, as the API carries it (mirrors ``State.to_dict()``)."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from weir.state_types import StateType

#: The field a Paused task run approved by a person carries in its Scheduled state (set
#: by the server's resume): the next attempt of its flow run gives it to the engine as
#: Prefect 1's ``Resume``.
RESUME_FIELD = "resume"


class StateData(BaseModel):
    """One state of a flow run or task run.

    Times are seconds since the epoch (UTC) as floats, everywhere in the API.
    Fields the server does not know (a result location, map counts, …) are kept
    in ``data`` and given back unchanged.
    """

    model_config = ConfigDict(extra="allow")

    type: StateType
    message: str | None = Field(default=None, max_length=100_000)
    timestamp: float = Field(default_factory=time.time, ge=0, le=1e11)
    start_time: float | None = Field(default=None, ge=0, le=1e11)
    run_count: int | None = Field(default=None, ge=0, le=2**31 - 1)

    def extra_data(self) -> dict[str, Any]:
        """The fields beyond the known ones (e.g. ``location``, ``map_counts``)."""
        return dict(self.model_extra or {})
