"""``Docker``: the flow's script is built into a container image; runs load it from there.

At registration, ``build()`` makes an image ``FROM`` the base image the user
names (which must already hold Python and weir), with the flows' scripts under
``flow_path_in_image`` (``<dir>/<flow slug>/<sha256 prefix>.py``), any extra
``files`` and ``python_dependencies`` (``pip install``). The build context is a
tar made in memory and sent through the Docker Engine API (the ``docker``
Python SDK), so any engine that speaks that API works: Docker, or podman's
service. With ``registry_url`` the image is pushed there afterwards.

The image tag defaults to a digest of what went into the image, so registering
an unchanged flow builds the same tag (and the server keeps the same flow
version) while a changed script gets a new tag.

At run time the process runs inside that image (the docker agent starts it
from the image ``serialize()`` recorded) and ``get_flow`` runs the script from
the container's own file system.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import posixpath
import tarfile
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from weir.exceptions import ConfigurationError, StorageError
from weir.storage.base import Storage, missing_flow_message, pick_flow
from weir.storage.fields import Fields
from weir.storage.keys import check_key, content_key
from weir.storage.scripts import flows_in_script
from weir.storage.source import defining_file

if TYPE_CHECKING:
    from docker.client import DockerClient

    from weir.core.flow import Flow

logger = logging.getLogger(__name__)

#: Where flow scripts go inside the image unless told otherwise.
DEFAULT_FLOW_DIR = "/opt/weir/flows"
#: How many lines of a failed build's log an error shows.
BUILD_LOG_LINES = 20


def connect_engine(base_url: str | None = None, *, timeout: int = 60) -> DockerClient:
    """A client of the Docker-API engine at ``base_url`` (else ``DOCKER_HOST``), checked alive.

    Raises ConfigurationError naming the address tried and how to start an engine.
    """
    try:
        from docker.client import DockerClient as Client
        from docker.errors import DockerException
    except ImportError as exc:  # pragma: no cover - a dependency of weir
        raise ConfigurationError(
            "The docker Python package is missing; install it with `pip install docker`."
        ) from exc
    where = base_url or os.environ.get("DOCKER_HOST") or "the default socket"
    try:
        client = (
            Client(base_url=base_url, timeout=timeout)
            if base_url
            else Client.from_env(timeout=timeout)
        )
        client.ping()
    except DockerException as exc:
        raise ConfigurationError(
            f"Cannot reach a Docker-API engine at {where} ({exc}). Start one (Docker's "
            "daemon, or `podman system service --time=0 unix:///path/podman.sock`) and point "
            "DOCKER_HOST (or the base_url argument) at its socket, e.g. "
            "DOCKER_HOST=unix:///path/podman.sock."
        ) from exc
    return client


class Docker(Storage):
    """Flow scripts built into a container image, loaded from inside it at run time."""

    type_name = "Docker"

    def __init__(
        self,
        base_image: str | None = None,
        image_name: str | None = None,
        image_tag: str | None = None,
        python_dependencies: Iterable[str] | None = None,
        files: Mapping[str | Path, str] | None = None,
        registry_url: str | None = None,
        dockerfile: str | Path | None = None,
        flow_path_in_image: str = DEFAULT_FLOW_DIR,
        base_url: str | None = None,
        **storage_options: Any,
    ) -> None:
        super().__init__(**storage_options)  # labels, secrets, add_default_labels
        if base_image is not None and dockerfile is not None:
            raise StorageError(
                "Docker storage takes base_image or dockerfile, not both: the Dockerfile's "
                "own FROM line names its base image."
            )
        if image_name is not None and (not isinstance(image_name, str) or not image_name):
            raise StorageError(f"Docker storage's image_name must be a string, not {image_name!r}.")
        if not PurePosixPath(flow_path_in_image).is_absolute():
            raise StorageError(
                f"Docker storage's flow_path_in_image must be an absolute path in the image, "
                f"not {flow_path_in_image!r}."
            )
        self.base_image = base_image
        self.image_name = image_name
        self.image_tag = image_tag
        self.python_dependencies = list(python_dependencies or ())
        self.files = {str(Path(k).expanduser()): v for k, v in (files or {}).items()}
        self.registry_url = registry_url.rstrip("/") if registry_url else None
        self.dockerfile = str(dockerfile) if dockerfile is not None else None
        self.flow_path_in_image = flow_path_in_image.rstrip("/") or "/"
        self.base_url = base_url
        #: The full image reference once built (or read back from the server).
        self.image: str | None = None
        self._scripts: dict[str, bytes] = {}  # path in the image -> script bytes

    # -- registration ------------------------------------------------------------------

    def add_flow(self, flow: Flow, source: str | Path | None = None) -> str:
        script = Path(source or defining_file(flow))
        try:
            data = script.read_bytes()
        except OSError as exc:
            raise StorageError(
                f"Cannot read the script {script} of flow '{flow.name}' to put it in the "
                f"image: {exc}."
            ) from exc
        path = posixpath.join(self.flow_path_in_image, content_key(flow.name, data, ".py"))
        self._scripts[path] = data
        self.flows[flow.name] = path
        return path

    def repository(self) -> str:
        """The image's name with its registry (``registry/name``), without the tag."""
        if not self.image_name:
            raise StorageError(
                "Docker storage needs image_name (e.g. Docker(base_image='python:3.11-slim', "
                "image_name='my-flows')) to build an image."
            )
        return f"{self.registry_url}/{self.image_name}" if self.registry_url else self.image_name

    def dockerfile_text(self) -> str:
        """The Dockerfile the build uses (context paths as :meth:`context` writes them)."""
        if self.dockerfile is not None:
            try:
                lines = [Path(self.dockerfile).read_text().rstrip("\n")]
            except OSError as exc:
                raise StorageError(
                    f"Cannot read Docker storage's dockerfile {self.dockerfile}: {exc}."
                ) from exc
        elif self.base_image:
            lines = [f"FROM {self.base_image}"]
        else:
            raise StorageError(
                "Docker storage needs base_image (an image with Python and weir installed, "
                "e.g. 'python:3.11-slim' with weir added) or a dockerfile to start from."
            )
        if self.python_dependencies:
            command = ["python", "-m", "pip", "install", "--no-cache-dir"]
            lines.append(f"RUN {json.dumps(command + self.python_dependencies)}")
        for n, target in enumerate(self.files.values()):
            lines.append(f"COPY {json.dumps([f'files/{n}', target])}")
        for n, path in enumerate(sorted(self._scripts)):
            lines.append(f"COPY {json.dumps([f'flows/{n}.py', path])}")
        return "\n".join(lines) + "\n"

    def context(self) -> bytes:
        """The build context: a tar of the Dockerfile, the flow scripts and the files."""
        members: dict[str, bytes] = {"Dockerfile": self.dockerfile_text().encode()}
        for n, (source, target) in enumerate(self.files.items()):
            try:
                members[f"files/{n}"] = Path(source).read_bytes()
            except OSError as exc:
                raise StorageError(
                    f"Cannot read the file {source} that Docker storage copies to {target}: "
                    f"{exc}. Give files as {{path on this machine: path in the image}}."
                ) from exc
        for n, path in enumerate(sorted(self._scripts)):
            members[f"flows/{n}.py"] = self._scripts[path]
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
        return buffer.getvalue()

    def build(self) -> Docker:
        repository = self.repository()
        context = self.context()
        # The tar is the same for the same inputs (no times or owners in it), so is its digest.
        tag = self.image_tag or hashlib.sha256(context).hexdigest()[:16]
        engine = connect_engine(self.base_url)
        try:
            if self.base_image:
                self._ensure_base_image(engine)
            self._build_image(engine, context, f"{repository}:{tag}")
            if self.registry_url:
                self._push(engine, repository, tag)
        finally:
            engine.close()
        self.image = f"{repository}:{tag}"
        self._scripts.clear()
        return self

    def _ensure_base_image(self, engine: DockerClient) -> None:
        from docker.errors import APIError, ImageNotFound

        assert self.base_image is not None
        try:
            engine.images.get(self.base_image)
            return
        except ImageNotFound:
            pass
        try:
            engine.images.pull(self.base_image)
        except APIError as exc:
            raise StorageError(
                f"Docker storage's base image {self.base_image!r} is not in the engine and "
                f"could not be pulled ({exc.explanation or exc}). Check the name, pull it or "
                "build it first, or log in to its registry."
            ) from exc

    def _build_image(self, engine: DockerClient, context: bytes, image: str) -> None:
        from docker.errors import APIError, BuildError

        logger.info("Docker storage: building %s (%d bytes of context).", image, len(context))
        try:
            engine.images.build(
                fileobj=io.BytesIO(context),
                custom_context=True,
                tag=image,
                rm=True,
                forcerm=True,
                pull=False,
            )
        except BuildError as exc:
            lines = _log_lines(exc.build_log)[-BUILD_LOG_LINES:]
            raise StorageError(
                f"Building the image {image} failed: {exc.msg.strip()}. The build's last "
                "lines:\n" + "\n".join(lines)
            ) from exc
        except APIError as exc:
            raise StorageError(
                f"The engine refused to build the image {image}: {exc.explanation or exc}."
            ) from exc

    def _push(self, engine: DockerClient, repository: str, tag: str) -> None:
        from docker.errors import APIError

        try:
            stream = engine.images.push(repository, tag=tag, stream=True, decode=True)
            errors = [c.get("error") for c in stream if isinstance(c, dict) and c.get("error")]
        except APIError as exc:
            errors = [str(exc.explanation or exc)]
        if errors:
            raise StorageError(
                f"Pushing the image {repository}:{tag} to {self.registry_url} failed: "
                f"{errors[-1]}. Log in to the registry (docker login) or check registry_url."
            )
        logger.info("Docker storage: pushed %s:%s.", repository, tag)

    # -- run time ------------------------------------------------------------------------

    def get_flow(self, flow_name: str) -> Flow:
        path = self.flows.get(flow_name)
        if path is None:
            raise StorageError(missing_flow_message(flow_name, repr(self), self.flows))
        if not Path(path).is_file():
            raise StorageError(
                f"Flow '{flow_name}' is stored in the image {self.image} at {path}, which is "
                "not here: run it inside that image (the docker agent starts its runs from it)."
            )
        return pick_flow(flows_in_script(path), flow_name, f"the script {path} of {self.image}")

    def _fields(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "image_name": self.image_name,
            "image_tag": self.image_tag,
            "registry_url": self.registry_url,
            "flow_path_in_image": self.flow_path_in_image,
        }

    @classmethod
    def from_fields(cls, fields: Fields) -> Docker:
        storage = cls(
            image_name=fields.text("image_name"),
            image_tag=fields.text("image_tag"),
            registry_url=fields.text("registry_url"),
            flow_path_in_image=fields.text("flow_path_in_image") or DEFAULT_FLOW_DIR,
        )
        storage.image = fields.text("image", required=True)
        flows = fields.flows()
        for name, path in flows.items():
            if not PurePosixPath(path).is_absolute():
                raise fields.error("flows", f"maps flow {name!r} to {path!r}, not a path")
            check_key(path.lstrip("/"), "/")
        storage.flows = flows
        return storage


def _log_lines(build_log: Iterable[Any]) -> list[str]:
    """The text of a build log's chunks ({"stream": ...}, {"error": ...}), line by line."""
    lines: list[str] = []
    for chunk in build_log:
        if not isinstance(chunk, dict):
            continue
        text = chunk.get("stream") or chunk.get("error") or ""
        lines.extend(line for line in str(text).splitlines() if line.strip())
    return lines
