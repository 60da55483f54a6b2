"""Where a flow's code lives between registration and its runs.

``Local`` (a script's path, or a pickle on local disk), ``Module`` (an
importable module), ``Remote`` (a script at any fsspec URL), ``Docker`` (scripts
built into a container image). Each remembers flows by name with ``add_flow``,
builds at registration, loads a flow by name with ``get_flow`` at run time, and
serializes to JSON that ``storage_from_dict`` reads back.
"""

from weir.storage.base import Storage
from weir.storage.docker import Docker
from weir.storage.local import Local
from weir.storage.module import Module
from weir.storage.remote import Remote
from weir.storage.serialize import storage_from_dict

__all__ = ["Docker", "Local", "Module", "Remote", "Storage", "storage_from_dict"]


def __getattr__(name: str) -> object:
    # A submodule on first access, as after Prefect 1's eager imports (weir._submodules).
    from weir._submodules import submodule

    return submodule(__name__, name)
