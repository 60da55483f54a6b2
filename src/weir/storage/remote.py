"""``Remote``: the flow's script is uploaded to any fsspec URL and downloaded to run.

``url`` names either one file (the script goes exactly there) or a directory:
a URL ending in '/' or an existing directory. In a directory each flow's
script goes under the flow's name, content-addressed:
``<url>/<flow slug>/<sha256 prefix>.py``, so registering an unchanged script
writes the same key (no new flow version) while a changed one gets a new key
and older flow versions keep running the code they were registered with.
``key=`` chooses the path under ``url`` instead. A key never leaves its base:
one with '..' or a leading '/' is refused, at registration and at run time.

``storage_options`` are passed to fsspec and stored with the flow on the
server, so leave secrets out of them: give credentials to the agent's
environment (e.g. AWS_* variables) instead.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir.exceptions import StorageError
from weir.storage.base import Storage, missing_flow_message, pick_flow
from weir.storage.fields import Fields
from weir.storage.keys import check_key, content_key, join_key
from weir.storage.scripts import flows_in_script
from weir.storage.source import defining_file

if TYPE_CHECKING:
    from weir.core.flow import Flow

logger = logging.getLogger(__name__)

#: Scripts downloaded by this process; removed when it exits (the flow's functions
#: keep pointing at the file for tracebacks while the run lasts).
_downloads: Path | None = None


def _download_dir() -> Path:
    global _downloads
    if _downloads is None:
        _downloads = Path(tempfile.mkdtemp(prefix="weir-flows-"))
        atexit.register(shutil.rmtree, _downloads, True)
    return _downloads


class Remote(Storage):
    """A flow script kept at an fsspec URL (file://, memory://, s3://, gcs://…)."""

    type_name = "Remote"

    def __init__(
        self,
        url: str,
        key: str | None = None,
        script: str | Path | None = None,
        storage_options: dict[str, Any] | None = None,
        **storage_keywords: Any,
    ) -> None:
        super().__init__(**storage_keywords)  # labels, secrets, add_default_labels
        if not isinstance(url, str) or not url:
            raise StorageError(
                f"Remote storage needs a URL such as 's3://bucket/flows/', not {url!r}."
            )
        self.url = url
        self.key = check_key(key, url) if key is not None else None
        self.script = str(Path(script).resolve()) if script is not None else None
        self.storage_options = dict(storage_options or {})
        self._uploads: dict[str, bytes] = {}  # key -> script bytes, until build()

    def _fs(self) -> tuple[Any, str]:
        import fsspec

        try:
            return fsspec.core.url_to_fs(self.url, **self.storage_options)  # type: ignore[no-any-return]
        except (ImportError, ValueError) as exc:
            raise StorageError(
                f"Remote storage cannot open {self.url}: {exc}. Install the fsspec backend "
                "for this URL's protocol, or check the URL."
            ) from exc

    def _is_directory(self) -> bool:
        if self.url.endswith("/"):
            return True
        fs, path = self._fs()
        return bool(fs.isdir(path))

    def add_flow(self, flow: Flow, source: str | Path | None = None) -> str:
        script = Path(self.script or source or defining_file(flow))
        try:
            data = script.read_bytes()
        except OSError as exc:
            raise StorageError(
                f"Cannot read the script {script} of flow '{flow.name}' to upload it: {exc}."
            ) from exc
        if self.key is not None:
            key = self.key
        elif self._is_directory():
            key = content_key(flow.name, data, ".py")
        else:
            key = ""  # the URL is the file itself
        if self._uploads.get(key, data) != data:
            raise StorageError(
                f"Flow '{flow.name}' comes from another script than the flows already stored at "
                f"{self._location(key)}; give each script its own Remote storage or key."
            )
        self._uploads[key] = data
        self.flows[flow.name] = key
        return self._location(key)

    def _location(self, key: str) -> str:
        return join_key(self.url, key) if key else self.url

    def build(self) -> Remote:
        if not self._uploads:
            return self
        fs, _ = self._fs()
        for key, data in self._uploads.items():
            _, path = self._fs_path(key)
            try:
                parent = path.rsplit("/", 1)[0]
                if parent and parent != path:
                    fs.makedirs(parent, exist_ok=True)
                fs.pipe_file(path, data)
            except OSError as exc:
                raise StorageError(
                    f"Uploading a flow script to {self._location(key)} failed: {exc}."
                ) from exc
            logger.info("Remote storage: uploaded %d bytes to %s.", len(data), self._location(key))
        self._uploads.clear()
        return self

    def _fs_path(self, key: str) -> tuple[Any, str]:
        fs, base = self._fs()
        return fs, (join_key(base, key) if key else base)

    def get_flow(self, flow_name: str) -> Flow:
        if flow_name not in self.flows:
            raise StorageError(missing_flow_message(flow_name, repr(self), self.flows))
        key = self.flows[flow_name]
        location = self._location(key)
        fs, path = self._fs_path(key)
        try:
            data = fs.cat_file(path)
        except (OSError, ValueError) as exc:  # FileNotFoundError, backend errors
            raise StorageError(
                f"Cannot download the script of flow '{flow_name}' from {location}: {exc!r}. "
                "Register the flow again, or give the agent access to that storage."
            ) from exc
        folder = Path(tempfile.mkdtemp(dir=_download_dir()))
        local = folder / (Path(path).name if path.endswith(".py") else "flow.py")
        local.write_bytes(data)
        return pick_flow(flows_in_script(local), flow_name, f"the script at {location}")

    def _fields(self) -> dict[str, Any]:
        return {"url": self.url, "key": self.key, "storage_options": self.storage_options}

    @classmethod
    def from_fields(cls, fields: Fields) -> Remote:
        storage = cls(
            fields.text("url", required=True),  # type: ignore[arg-type]
            key=fields.text("key"),
            storage_options=fields.mapping("storage_options"),
        )
        flows = fields.flows()
        for key in flows.values():
            if key:
                check_key(key, storage.url)
        storage.flows = flows
        return storage
