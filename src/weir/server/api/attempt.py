"""The attempt a flow-run process sends with its writes (see ``weir.server.models.attempts``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from weir.schemas.actions import ATTEMPT_HEADER

#: A route parameter: the request's attempt header, or None when it has none.
Attempt = Annotated[
    int | None,
    Header(
        alias=ATTEMPT_HEADER,
        ge=0,
        le=2**31 - 1,
        description="The flow-run process's attempt (its run's `attempt` when it was "
        "claimed): a write from an older attempt is refused with 409, field `attempt`.",
    ),
]
