"""What a registered flow's run config and executor spec may hold.

The server checks both when a flow is registered, and the agents read the run
config through ``RunConfigSpec`` too, so a run config the server accepted is one
every agent can use. Keys weir does not read are kept and passed on as given: a
run-config object's ``serialize()`` may add its own.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StrictStr


def _env_name(value: Any) -> str:
    # The OS refuses "=" and NUL in a variable's name: refuse them here, not at launch.
    if not isinstance(value, str) or not value or "=" in value or "\x00" in value:
        raise ValueError(
            f"An environment variable's name must be non-empty text without '=' or NUL, "
            f"got {value!r}; rename it."
        )
    return value


def _env_value(value: Any) -> str:
    # Numbers and booleans are written as text (str(3) == "3"), as a shell would.
    if isinstance(value, (bool, int, float)):
        return str(value)
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError(
            f"An environment variable's value must be text (or a number or boolean) "
            f"without NUL, got {value!r}; give it as a string."
        )
    return value


EnvName = Annotated[str, PlainValidator(_env_name)]
EnvValue = Annotated[str, PlainValidator(_env_value)]


class RunConfigSpec(BaseModel):
    """A run config: its kind (``type``, a ``weir.run_configs`` class name), ``env``
    (variables for the run's process), ``labels``, ``working_dir`` (local agent) and
    ``image`` (docker agent)."""

    model_config = ConfigDict(extra="allow")

    type: Annotated[StrictStr, Field(min_length=1, max_length=200)] | None = None
    env: dict[EnvName, EnvValue] | None = None
    labels: list[Annotated[StrictStr, Field(min_length=1, max_length=200)]] | None = None
    working_dir: Annotated[StrictStr, Field(min_length=1, max_length=4096)] | None = None
    image: Annotated[StrictStr, Field(min_length=1, max_length=1000)] | None = None

    def env_vars(self) -> dict[str, str]:
        """The variables as the run's process gets them."""
        return dict(self.env or {})

    def require(self, agent: str, kinds: tuple[str, ...]) -> None:
        """ValueError unless an agent of kind ``agent`` runs this run config's kind.

        A run config with no ``type`` (a plain dict) is run by every agent.
        """
        if self.type is None or self.type in kinds:
            return
        raise ValueError(
            f"the flow's run config is a {self.type}, which a {agent} agent does not run "
            f"(it runs {' and '.join(kinds)}); give the flow labels that only an agent "
            "for it has, or change its run config"
        )


def run_config(data: Any) -> RunConfigSpec:
    """A flow's stored run config (maybe None) read; a ValidationError names the field."""
    return RunConfigSpec.model_validate(data if data is not None else {})


class ExecutorSpec(BaseModel):
    """An executor as ``Executor.serialize()`` describes it: its class name and settings."""

    model_config = ConfigDict(extra="allow")

    type: Annotated[StrictStr, Field(min_length=1, max_length=200)]
