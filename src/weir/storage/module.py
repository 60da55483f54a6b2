"""``Module``: the flow lives in an importable module (an installed package, say)."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir.exceptions import StorageError
from weir.storage.base import Storage, pick_flow
from weir.storage.fields import Fields

if TYPE_CHECKING:
    from weir.core.flow import Flow

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class Module(Storage):
    """A flow found by name among the globals of an importable module."""

    type_name = "Module"

    def __init__(self, module: str, **storage_options: Any) -> None:
        super().__init__(**storage_options)  # labels, secrets, add_default_labels
        if not isinstance(module, str) or not _DOTTED.match(module):
            raise StorageError(
                f"Module storage needs a dotted module name such as 'my_pkg.flows', not {module!r}."
            )
        self.module = module

    def add_flow(self, flow: Flow, source: str | Path | None = None) -> str:
        self.flows[flow.name] = self.module
        return self.module

    def build(self) -> Module:
        try:
            found = importlib.util.find_spec(self.module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise StorageError(
                f"The module {self.module!r} cannot be imported here; install its package "
                "or put it on PYTHONPATH, where the agent will find it too."
            )
        return self

    def get_flow(self, flow_name: str) -> Flow:
        from weir.core.flow import Flow, loading_script

        try:
            with loading_script():
                module = importlib.import_module(self.module)
        except Exception as exc:
            raise StorageError(
                f"Importing the module {self.module!r} for flow '{flow_name}' failed: "
                f"{exc!r}. Install its package or fix the error in it."
            ) from exc
        flows = {v.name: v for v in vars(module).values() if isinstance(v, Flow)}
        return pick_flow(flows, flow_name, f"the module {self.module}")

    def _fields(self) -> dict[str, Any]:
        return {"module": self.module}

    @classmethod
    def from_fields(cls, fields: Fields) -> Module:
        storage = cls(fields.text("module", required=True))  # type: ignore[arg-type]
        storage.flows = fields.flows()
        return storage
