"""``Local``: the flow's code stays on this machine's disk.

As a script (the default), the storage records the script's absolute path and a
run executes that script and picks the flow by name, so a run always uses the
script as it is *now*. With ``stored_as_script=False`` the flow is pickled with
cloudpickle under ``directory`` (default ``$WEIR_HOME/flows``) at build time, as
``<flow slug>/<sha256 of the pickle>.flow``, and a run unpickles that file.
Either way, the agent that runs the flow must see the same file system.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir.exceptions import StorageError
from weir.storage.base import Storage, missing_flow_message, pick_flow
from weir.storage.fields import Fields
from weir.storage.keys import check_key, content_key
from weir.storage.scripts import flows_in_script
from weir.storage.source import defining_file
from weir.utilities.home import weir_home

if TYPE_CHECKING:
    from weir.core.flow import Flow

logger = logging.getLogger(__name__)


def default_directory() -> Path:
    """``$WEIR_HOME/flows`` (``~/.weir/flows``): where pickled flows go by default."""
    return weir_home() / "flows"


class Local(Storage):
    """A flow kept on local disk: its script (by absolute path), or a pickle of it."""

    type_name = "Local"

    def __init__(
        self,
        path: str | Path | None = None,
        stored_as_script: bool = True,
        directory: str | Path | None = None,
        validate: bool = True,
        **storage_options: Any,
    ) -> None:
        # ``validate``: Prefect 1 checked the directory was absolute; weir resolves it
        # always. ``storage_options``: labels, secrets, add_default_labels (``Storage``).
        super().__init__(**storage_options)
        self.path = str(Path(path).expanduser().resolve()) if path is not None else None
        self.stored_as_script = stored_as_script
        folder = Path(directory).expanduser() if directory is not None else default_directory()
        self.directory = str(folder.resolve())
        self._pickles: dict[str, bytes] = {}

    def add_flow(self, flow: Flow, source: str | Path | None = None) -> str:
        if self.stored_as_script:
            script = self.path or str(Path(source or defining_file(flow)).resolve())
            self.flows[flow.name] = script
            return script
        import cloudpickle

        data = cloudpickle.dumps(flow)
        key = content_key(flow.name, data, ".flow")
        self._pickles[key] = data
        self.flows[flow.name] = key
        return str(Path(self.directory) / key)

    def build(self) -> Local:
        if self.stored_as_script:
            for name, script in self.flows.items():
                if not Path(script).is_file():
                    raise StorageError(
                        f"Flow '{name}' is stored as the script {script}, which does not exist; "
                        "check the path."
                    )
            return self
        for key, data in self._pickles.items():
            target = Path(self.directory) / check_key(key, self.directory)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            logger.debug("Local storage: wrote %s (%d bytes).", target, len(data))
        self._pickles.clear()
        return self

    def get_flow(self, flow_name: str) -> Flow:
        location = self.flows.get(flow_name)
        if not self.stored_as_script:
            if location is None:
                raise StorageError(missing_flow_message(flow_name, repr(self), self.flows))
            return self._unpickle(flow_name, location)
        scripts = set(self.flows.values())
        # An unknown name still runs the script when there is just one, to list its flows.
        script = location or self.path or (scripts.pop() if len(scripts) == 1 else None)
        if script is None:
            raise StorageError(missing_flow_message(flow_name, repr(self), self.flows))
        return pick_flow(flows_in_script(script), flow_name, f"the script {script}")

    def _unpickle(self, flow_name: str, key: str) -> Flow:
        path = Path(self.directory) / check_key(key, self.directory)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise StorageError(
                f"Cannot read the pickled flow '{flow_name}' at {path} ({exc}); register the "
                "flow again on this machine, or give the agent access to that directory."
            ) from exc
        return unpickled_flow(data, path, flow_name, "; store the flow as a script instead")

    def _fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"path": self.path, "stored_as_script": self.stored_as_script}
        if not self.stored_as_script:
            fields["directory"] = self.directory
        return fields

    @classmethod
    def from_fields(cls, fields: Fields) -> Local:
        stored_as_script = fields.flag("stored_as_script", True)
        path = fields.text("path")
        directory = fields.text("directory", required=not stored_as_script)
        flows = fields.flows()
        # Stored paths are absolute: a relative one would depend on the agent's cwd.
        for name, value in [("path", path), ("directory", directory)] + [
            ("flows", v) for v in (flows.values() if stored_as_script else ())
        ]:
            if value is not None and not Path(value).is_absolute():
                raise fields.error(name, f"holds {value!r}, which is not an absolute path")
        storage = cls(path=path, stored_as_script=stored_as_script, directory=directory)
        storage.flows = flows
        return storage


def unpickled_flow(data: bytes, path: Path, flow_name: str | None = None, fix: str = "") -> Flow:
    """The flow pickled (cloudpickle) in ``data``, read from ``path``: a StorageError
    saying so when it cannot be unpickled here, or is not a flow (named ``flow_name``,
    when given). ``fix`` ends the first message with what to do instead."""
    import cloudpickle

    from weir.core.flow import Flow

    what = f"flow '{flow_name}'" if flow_name is not None else "a flow"
    try:
        flow = cloudpickle.loads(data)
    except Exception as exc:
        raise StorageError(
            f"Unpickling {what} from {path} failed: {exc!r}. The code it needs may be "
            f"missing here{fix}."
        ) from exc
    if not isinstance(flow, Flow) or (flow_name is not None and flow.name != flow_name):
        raise StorageError(f"The file {path} does not hold {what}.")
    return flow
