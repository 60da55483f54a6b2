"""weir's exceptions.

Our exception hierarchy::

    WeirError
    ├── FlowValidationError      a flow or task was built wrong (cycle, bad argument, …)
    │   ├── FlowTypeError        … with a value of the wrong type (also a TypeError)
    │   │   └── TaskCallError    … a task called with arguments its run() does not take
    │   └── TaskArgsError        … task_args naming no attribute (also an AttributeError)
    ├── ParameterError           a flow run was given parameters that do not fit
    ├── InvalidTransition        a state change the transition table forbids
    ├── ExecutorError            an executor could not run what it was given
    ├── StorageError             a flow could not be stored or loaded
    ├── SerializationError       a value could not be turned into bytes, or back
    ├── ResultError              a result could not be located, written or read
    ├── ScheduleError            a schedule, clock, filter or adjustment cannot be built
    ├── ClientError              the server answered a request with an error
    │   ├── ObjectNotFound       … with 404
    │   └── ConflictError        … with 409 (a stale state write)
    │       └── SupersededError  … from a flow-run process whose run another attempt took over
    └── ConfigurationError       a setting is missing or inconsistent

Every message is a full sentence that names the task, flow or run and says what
to do next.
"""

from __future__ import annotations


class WeirError(Exception):
    """The root of every error weir raises on purpose."""


class FlowValidationError(WeirError, ValueError):
    """A flow or task was built in a way that cannot run."""


class FlowTypeError(FlowValidationError, TypeError):
    """A flow or task was given a value of the wrong type: a non-Task where a task
    belongs, a timeout that is not a duration, a constant mapped over that is no sequence.

    Also a TypeError, as Prefect 1 raises one there, so code that catches it keeps working.
    """


class TaskCallError(FlowTypeError):
    """A task was called (or bound) with arguments its ``run()`` does not take: an
    unknown keyword, too many positionals, or a required argument missing.

    A TypeError, as the same call of a plain function (and Prefect 1's) would raise.
    """


class TaskArgsError(FlowValidationError, AttributeError):
    """``task_args`` (or ``Task.copy(...)``) named something the task has no attribute for.

    Also an AttributeError, as Prefect 1 raises one there.
    """


class ParameterError(WeirError, ValueError):
    """Parameters given to a flow run do not match the flow's Parameters."""


class InvalidTransition(WeirError):
    """A state change that the transition table does not allow."""


class ExecutorError(WeirError):
    """An executor could not run what it was given."""


class StorageError(WeirError):
    """A flow could not be stored, or could not be loaded back.

    ``field`` names the serialized storage's field at fault, when one is.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ScheduleError(WeirError, ValueError):
    """A schedule, clock, filter or adjustment was given a value it cannot use.

    ``field`` names the part at fault when it is known, as a path into the
    serialized schedule (``clocks[0].cron``) or a clock's argument (``cron``).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class SerializationError(WeirError, ValueError, TypeError):
    """A serializer could not turn a value into bytes, or bytes back into a value.

    Also a TypeError, which Prefect 1's serializers raised for a value they could not
    encode (``json.dumps``), so ``except TypeError`` around one keeps working."""


class ResultError(WeirError):
    """A result's location could not be formatted, or its data written or read."""


class ConfigurationError(WeirError):
    """A setting is missing or inconsistent."""


class ClientError(WeirError):
    """The server refused a request; the message carries its reason.

    ``detail`` is the reason alone, without the request it answered (what a command
    line shows); the message is the API's wording, with the method, path and status.
    """

    def __init__(
        self, message: str, status_code: int | None = None, detail: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.detail = detail if detail is not None else message


class ObjectNotFound(ClientError):
    """The server has no object with that id."""


class ConflictError(ClientError):
    """The write was based on a stale version of the object."""


class SupersededError(ConflictError):
    """The write came from an older attempt of a flow run: another process runs it now.

    The process that gets it must stop without writing anything more.
    """
