"""What model functions raise; the API turns each into one HTTP status.

The model layer never imports FastAPI, so it speaks in these::

    ServerError
    ├── NotFound        → 404  (an id or name the database does not have)
    ├── Conflict        → 409  (a stale version, a forbidden transition, a duplicate)
    └── Unprocessable   → 422  (well-formed input that does not fit, e.g. parameters)
        └── InvalidField → 422 as pydantic's errors are: ``detail`` lists each field's
                           ``loc`` (["body", "serialized_flow", "schedule", ...]) and ``msg``
"""

from __future__ import annotations

from weir.exceptions import WeirError


class ServerError(WeirError):
    """An error a request caused; its message is shown to the client as is."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(ServerError):
    status_code = 404


class Conflict(ServerError):
    status_code = 409


class Unprocessable(ServerError):
    status_code = 422


class InvalidField(Unprocessable):
    """A field deep in a request body that the model layer found wrong, by its path."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message, field=".".join(str(part) for part in loc[1:]))
        self.loc = loc

    def errors(self) -> list[dict[str, object]]:
        """The body FastAPI gives a pydantic error, so clients read both alike."""
        return [{"type": "value_error", "loc": list(self.loc), "msg": self.message}]
