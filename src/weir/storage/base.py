"""The Storage interface: where a flow's code lives between registration and its runs.

A storage remembers flows by name (``flows``: flow name -> location, a path,
module or key whose meaning the kind defines). ``add_flow`` records a flow at
registration, ``build`` puts what is needed where runs will find it, and
``get_flow(name)`` loads the flow again in the process that runs it, often on
another machine. ``serialize()`` is the JSON the server keeps next to the flow
version; ``weir.storage.storage_from_dict`` turns it back into a Storage.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from weir.exceptions import StorageError

if TYPE_CHECKING:
    from weir.core.flow import Flow

logger = logging.getLogger(__name__)


class Storage(ABC):
    """Where a flow's code is kept, and how a run loads the flow back by name."""

    #: The "type" written by serialize() and read by storage_from_dict().
    type_name: ClassVar[str]

    def __init__(
        self,
        *,
        labels: Iterable[str] | None = None,
        secrets: Iterable[str] | None = None,
        add_default_labels: bool | None = None,
    ) -> None:
        """Prefect 1's keywords of every storage: ``labels`` go on the flow's runs at
        registration (as ``register(labels=)``'s do), and ``add_default_labels=True``
        adds this host's name, as ``register(add_default_labels=True)`` does (Prefect
        1's Local added it unless told not to; weir's agents carry no host label, so
        nothing adds it unless asked). ``secrets`` names the secrets the storage needs:
        kept, for storages that read one."""
        self.flows: dict[str, str] = {}
        if isinstance(labels, str) or isinstance(secrets, str):
            raise TypeError(
                "A storage's labels and secrets are lists of strings, not one string; "
                "write labels=['name']."
            )
        self.labels = list(labels or ())
        self.secrets = list(secrets or ())
        self.add_default_labels = add_default_labels

    def __contains__(self, flow_name: object) -> bool:
        return flow_name in self.flows

    @abstractmethod
    def add_flow(self, flow: Flow, source: str | Path | None = None) -> str:
        """Remember ``flow`` by name; ``source`` is the file defining it, when known."""

    def build(self) -> Storage:
        """Put what runs will need where they will find it (at registration)."""
        return self

    @abstractmethod
    def get_flow(self, flow_name: str) -> Flow:
        """Load the flow called ``flow_name`` (at run time)."""

    def serialize(self) -> dict[str, Any]:
        """A JSON description with a "type" key, for storage_from_dict()."""
        return {"type": self.type_name, "flows": dict(self.flows), **self._fields()}

    @abstractmethod
    def _fields(self) -> dict[str, Any]:
        """The kind's own fields, as serialize() writes them."""

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._fields().items() if v is not None)
        return f"{self.type_name}({fields})"


def pick_flow(flows: dict[str, Flow], flow_name: str, where: str) -> Flow:
    """The flow called ``flow_name`` among ``flows``, or a StorageError listing them."""
    flow = flows.get(flow_name)
    if flow is None:
        raise StorageError(missing_flow_message(flow_name, where, flows))
    return flow


def missing_flow_message(flow_name: str, where: str, available: Iterable[str]) -> str:
    names = sorted(available)
    found = (
        f"it defines {', '.join(repr(n) for n in names)}"
        if names
        else "it defines no flow at module level"
    )
    return (
        f"There is no flow named {flow_name!r} in {where}; {found}. Register the flow again "
        "from the script that defines it, or fix the flow's name."
    )
