"""Registering a flow with a weir server: build its storage, send its description.

``register_flow`` is what ``flow.register()`` and ``weir register PATH`` call.
The server makes a new flow version only when the serialized graph, storage,
executor or run config changed, so registering an unchanged flow again is a
no-op that returns the same version.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir.exceptions import ConfigurationError, StorageError
from weir.storage import Local, Storage
from weir.storage.local import default_directory
from weir.storage.source import module_level_file

if TYPE_CHECKING:
    from weir.client import Client
    from weir.core.flow import Flow
    from weir.schemas.responses import FlowRegistered

logger = logging.getLogger(__name__)

__all__ = ["Registration", "register_flow"]


class Registration(str):
    """The registered flow version's id (a str, usable wherever a flow id is) and more.

    ``created`` says whether this registration made a new version; ``version``,
    ``name`` and ``project`` describe the version it ended on.
    """

    name: str
    project: str
    version: int
    created: bool

    def __new__(
        cls,
        flow_id: str,
        *,
        name: str = "",
        project: str = "",
        version: int = 0,
        created: bool = False,
    ) -> Registration:
        self = super().__new__(cls, flow_id)
        self.name = name
        self.project = project
        self.version = version
        self.created = created
        return self

    @classmethod
    def from_response(cls, registered: FlowRegistered) -> Registration:
        flow = registered.flow
        return cls(
            str(flow.id),
            name=flow.name,
            project=flow.project,
            version=flow.version,
            created=registered.created,
        )

    @property
    def flow_id(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        status = "new" if self.created else "unchanged"
        return f"<Registration {self.name!r} v{self.version} ({status}): {str(self)}>"


def register_flow(
    flow: Flow,
    project: str = "default",
    labels: Iterable[str] | None = (),
    client: Client | None = None,
    storage: Storage | None = None,
    idempotent: bool = True,
    source: str | Path | None = None,
    idempotency_key: str | None = None,
    add_default_labels: bool = False,
    set_schedule_active: bool = True,
) -> Registration:
    """Build the flow's storage and register the flow; return its id (a Registration).

    The storage is ``storage``, else ``flow.storage``, else ``Local()`` (the file
    that defines the flow; see ``weir.storage.source``). ``source`` is that file
    when the caller knows it. ``idempotent=False`` makes a new version even when
    nothing changed. ``client`` defaults to ``Client()`` (WEIR_API_URL, WEIR_API_KEY).

    As in Prefect 1: the runs carry ``labels`` and the run config's labels, plus
    this machine's host name with ``add_default_labels=True`` (so only an agent
    here, started with that label, takes them); an ``idempotency_key`` equal to
    the latest version's makes no new version even if the flow changed, and a new
    key makes one even if it did not; ``set_schedule_active=False`` registers the
    flow with its schedule off.
    """
    if isinstance(labels, str):
        raise TypeError(
            f"Flow '{flow.name}': labels must be a list of strings, got the string "
            f"{labels!r}; write labels=[{labels!r}]."
        )
    serialized = flow.serialize()  # validates the graph before anything is uploaded
    run_config = _run_config(flow)
    chosen = _chosen_storage(flow, storage, source)
    storage_data = _build_storage(flow, chosen, source)
    if not idempotent:
        storage_data["registration_id"] = uuid.uuid4().hex
    every_label = set(labels or ()) | set((run_config or {}).get("labels") or ())
    every_label |= set(chosen.labels)  # Prefect 1's Storage(labels=...)
    if add_default_labels or chosen.add_default_labels:
        every_label.add(socket.gethostname())
    body: dict[str, Any] = {
        "project": project,
        "labels": sorted(every_label),
        "storage": storage_data,
        "executor": _executor(flow),
        "run_config": run_config,
        "idempotency_key": idempotency_key,
    }
    if client is not None:
        result = _send(client, serialized, body, set_schedule_active)
    else:
        from weir.client import Client

        with Client() as own:
            result = _send(own, serialized, body, set_schedule_active)
    logger.info(
        "Flow %s: registered as version %d in project %s (%s), id %s.",
        flow.name,
        result.version,
        result.project,
        "new" if result.created else "unchanged",
        result.flow_id,
    )
    return result


def _send(
    client: Client, serialized: dict[str, Any], body: dict[str, Any], schedule_active: bool
) -> Registration:
    result = Registration.from_response(client.register_flow(serialized, **body))
    if not schedule_active and serialized.get("schedule") is not None:
        client.update_flow(result.flow_id, schedule_active=False)
    return result


def _chosen_storage(flow: Flow, storage: Storage | None, source: str | Path | None) -> Storage:
    """``storage``, else the flow's, else ``Local()``: the script that defines the flow,
    or, for a flow no script holds at its top level (built inside a function, as in
    Prefect 1's tutorials), a pickle of it, as Prefect 1's ``Local`` stored every flow."""
    chosen = storage if storage is not None else flow.storage
    if chosen is None and source is None and module_level_file(flow) is None:
        logger.warning(
            "Flow '%s' is held at the top level of no script (it is built inside a "
            "function, or in an interactive session), so no script can give it back to a "
            "run: it is stored as a pickle under %s, which the agent must be able to read. "
            "To store its script instead, build it at the script's top level.",
            flow.name,
            default_directory(),
        )
        chosen = Local(stored_as_script=False)
    if chosen is None:
        chosen = Local()
    if not isinstance(chosen, Storage):
        raise StorageError(
            f"Flow '{flow.name}' has storage {chosen!r}, which is not a weir Storage; use "
            "weir.storage.Local, Module or Remote."
        )
    return chosen


def _build_storage(flow: Flow, chosen: Storage, source: str | Path | None) -> dict[str, Any]:
    """Add the flow to its storage, build it, and describe it for this flow alone."""
    chosen.add_flow(flow, source=source)
    built = chosen.build()
    data = built.serialize()
    # A storage shared by several flows lists them all; keep only this flow's entry so
    # this version's fingerprint does not change when another flow joins the storage.
    data["flows"] = {flow.name: data["flows"][flow.name]}
    return data


def _executor(flow: Flow) -> dict[str, Any] | None:
    executor = flow.executor
    if executor is None:
        return None
    serialize = getattr(executor, "serialize", None)
    if not callable(serialize):
        raise ConfigurationError(
            f"Flow '{flow.name}' has executor {executor!r}, which cannot be registered; "
            "use one of weir.executors."
        )
    return dict(serialize())


def _run_config(flow: Flow) -> dict[str, Any] | None:
    config = flow.run_config
    if config is None or isinstance(config, dict):
        return config
    serialize = getattr(config, "serialize", None)
    if not callable(serialize):
        raise ConfigurationError(
            f"Flow '{flow.name}' has run_config {config!r}; give a dict or an object with "
            "a serialize() method."
        )
    return dict(serialize())
