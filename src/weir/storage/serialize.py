"""``storage_from_dict``: a Storage back from what ``Storage.serialize()`` wrote."""

from __future__ import annotations

from typing import Any

from weir.exceptions import StorageError
from weir.storage.base import Storage
from weir.storage.docker import Docker
from weir.storage.fields import Fields
from weir.storage.local import Local
from weir.storage.module import Module
from weir.storage.remote import Remote

#: "type" -> class; every kind has ``from_fields(Fields) -> Storage``.
KINDS: dict[str, Any] = {"Docker": Docker, "Local": Local, "Module": Module, "Remote": Remote}

#: Fields any storage may carry that are about registration, not about loading:
#: ``registration_id`` makes each registration with idempotent=False a new version.
COMMON_FIELDS = ("registration_id",)


def storage_from_dict(data: dict[str, Any]) -> Storage:
    """The Storage ``data`` describes; StorageError naming the field when it is wrong."""
    if not isinstance(data, dict):
        raise StorageError(
            f"A serialized storage must be a JSON object with a 'type' key, not {data!r}."
        )
    kind = data.get("type")
    cls = KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise StorageError(
            f"The storage field 'type' is {kind!r}; weir knows {', '.join(sorted(KINDS))}.",
            field="type",
        )
    fields = Fields(data, kind)  # type: ignore[arg-type]
    for name in COMMON_FIELDS:
        fields.text(name)
    storage: Storage = cls.from_fields(fields)
    fields.done()
    return storage
