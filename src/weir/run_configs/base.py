"""The run config classes: what each holds and how it is sent to the server."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["DockerRun", "LocalRun", "RunConfig", "UniversalRun"]


class RunConfig:
    """What every run config holds: ``env`` for the run's process and ``labels``.

    Args:
        env: environment variables the run's process gets, on top of the agent's.
        labels: labels the flow's runs carry; an agent takes a run only when it has
            every one of them.
    """

    def __init__(
        self, env: Mapping[str, Any] | None = None, labels: Iterable[str] | None = None
    ) -> None:
        if isinstance(labels, str):
            raise TypeError(
                f"{type(self).__name__}: labels must be a list of strings, got the string "
                f"{labels!r}; write labels=[{labels!r}]."
            )
        self.env = dict(env) if env is not None else None
        self.labels = set(labels or ())

    def serialize(self) -> dict[str, Any]:
        """The JSON the server stores with the flow (the agents read it back)."""
        data: dict[str, Any] = {"type": type(self).__name__, "labels": sorted(self.labels)}
        if self.env is not None:
            data["env"] = dict(self.env)
        return data

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.serialize().items() if k != "type")
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.serialize() == self.serialize()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(repr(self))


class UniversalRun(RunConfig):
    """A run config any agent honours: only ``env`` and ``labels``."""


class LocalRun(RunConfig):
    """For the local agent: ``env``, ``labels``, and the ``working_dir`` its process starts in."""

    def __init__(
        self,
        env: Mapping[str, Any] | None = None,
        working_dir: str | None = None,
        labels: Iterable[str] | None = None,
    ) -> None:
        super().__init__(env=env, labels=labels)
        self.working_dir = str(working_dir) if working_dir is not None else None

    def serialize(self) -> dict[str, Any]:
        data = super().serialize()
        if self.working_dir is not None:
            data["working_dir"] = self.working_dir
        return data


class DockerRun(RunConfig):
    """For the docker agent: ``image`` (else the storage's or the agent's), ``env``, ``labels``."""

    def __init__(
        self,
        image: str | None = None,
        env: Mapping[str, Any] | None = None,
        labels: Iterable[str] | None = None,
    ) -> None:
        super().__init__(env=env, labels=labels)
        self.image = image

    def serialize(self) -> dict[str, Any]:
        data = super().serialize()
        if self.image is not None:
            data["image"] = self.image
        return data
