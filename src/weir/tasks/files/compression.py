"""``Zip`` and ``Unzip``: archives as tasks, as in Prefect 1."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from weir.core.task import Task
from weir.tasks.files.operations import PathLike, existing_path, required_path
from weir.utilities.tasks import defaults_from_attrs

__all__ = ["Unzip", "Zip"]

#: Prefect 1's names of the zipfile module's compression methods.
METHODS = {
    "store": zipfile.ZIP_STORED,
    "deflate": zipfile.ZIP_DEFLATED,
    "bzip2": zipfile.ZIP_BZIP2,
    "lzma": zipfile.ZIP_LZMA,
}


class Unzip(Task):
    """Extract a zip file into ``extract_dir`` (the working directory when not given);
    that directory. ``password`` opens an encrypted archive."""

    def __init__(self, zip_path: PathLike = "", extract_dir: PathLike = "", **kwargs: Any):
        self.zip_path = zip_path
        self.extract_dir = extract_dir
        super().__init__(**kwargs)

    @defaults_from_attrs("zip_path", "extract_dir")
    def run(  # type: ignore[override]
        self,
        zip_path: PathLike = "",
        extract_dir: PathLike = "",
        password: bytes | str | None = None,
    ) -> Path:
        archive = existing_path(self, zip_path, "zip_path")
        if not zipfile.is_zipfile(archive):
            raise TypeError(f"Task '{self.name}': zip_path {archive} is not a zip file.")
        target = Path(extract_dir) if extract_dir else Path.cwd()
        self.logger.info("Extracting %s to %s", archive, target)
        secret = password.encode() if isinstance(password, str) else password
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(target, pwd=secret)
        return target


class Zip(Task):
    """Write the file or directory ``source_path`` (or a list of them) into a new zip
    file at ``zip_path``; that path. A directory is stored under its own name, with
    everything in it.

    ``compression_method``: ``store``, ``deflate`` (the default), ``bzip2`` or
    ``lzma``; ``compression_level`` as ``zipfile`` takes it.
    """

    def __init__(
        self,
        source_path: PathLike | list[PathLike] = "",
        zip_path: PathLike = "",
        compression_method: str = "deflate",
        compression_level: int | None = None,
        **kwargs: Any,
    ):
        if compression_method not in METHODS:
            raise ValueError(
                f"Zip task: compression_method {compression_method!r} is not one of "
                f"{', '.join(METHODS)}."
            )
        self.source_path = source_path
        self.zip_path = zip_path
        self.compression = METHODS[compression_method]
        self.compression_level = compression_level
        super().__init__(**kwargs)

    @defaults_from_attrs("source_path", "zip_path")
    def run(  # type: ignore[override]
        self, source_path: PathLike | list[PathLike] = "", zip_path: PathLike = ""
    ) -> Path:
        given = source_path if isinstance(source_path, (list, tuple)) else [source_path]
        if not given:
            required_path(self, "", "source_path")
        sources = [existing_path(self, path, "source_path") for path in given]
        archive = required_path(self, zip_path, "zip_path")
        self.logger.info("Compressing %s into %s", ", ".join(map(str, sources)), archive)
        with zipfile.ZipFile(
            archive, "w", compression=self.compression, compresslevel=self.compression_level
        ) as out:
            for source in sources:
                out.write(source, source.name)
                if source.is_dir():
                    for inner in sorted(source.rglob("*")):
                        out.write(inner, inner.relative_to(source.parent))
        return archive
