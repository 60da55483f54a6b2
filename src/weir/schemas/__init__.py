"""Pydantic models of the REST API, shared by the server and the client.

``actions`` are request bodies, ``responses`` what the server answers and
``filters`` the query parameters of list endpoints. Times are seconds since the
epoch (UTC) as floats.
"""

from __future__ import annotations

from weir.schemas import actions, filters, responses
from weir.schemas.states import StateData

__all__ = ["StateData", "actions", "filters", "responses"]
