"""``EnvVarSecret``: a secret read from an environment variable (Prefect 1's path)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from weir import masking
from weir.tasks.secrets.base import PrefectSecret

__all__ = ["EnvVarSecret"]


class EnvVarSecret(PrefectSecret):
    """The value of the environment variable ``name`` in the process that runs the task.

    As in Prefect 1: ``cast`` turns the text into another type (``cast=int``), and
    with ``raise_if_missing=True`` a variable that is not set fails the task instead
    of giving None. The value is masked in the run's logs, as every secret's.

    Args:
        name: the variable's name; also the task's name unless ``name`` is given at
            call time instead.
        cast: a function called on the value (not on a missing one).
        raise_if_missing: fail the task when the variable is not set.
        **kwargs: the options every Task takes.
    """

    named = "variable"

    def __init__(
        self,
        name: str | None = None,
        cast: Callable[[str], Any] | None = None,
        raise_if_missing: bool = False,
        **kwargs: Any,
    ) -> None:
        self.cast = cast
        self.raise_if_missing = raise_if_missing
        super().__init__(name=name, **kwargs)

    def run(self, name: str | None = None) -> Any:  # type: ignore[override]
        """The variable's value (cast when ``cast`` was given), None when it is not set."""
        name = self._name_to_read(name)
        value = os.environ.get(name)
        if value is None:
            if self.raise_if_missing:
                raise ValueError(
                    f"EnvVarSecret '{self.name}': the environment variable {name} is not set "
                    "in the process that runs the task; set it there (for an agent's runs: "
                    "in the agent's environment or the flow's run config env)."
                )
            return None
        masking.remember(value)
        return self.cast(value) if self.cast is not None else value
