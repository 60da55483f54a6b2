"""Prefect 1's other Result kinds: inline, constant, and one per object store.

- :class:`PrefectResult` keeps the value's bytes in the location itself, so the
  result travels with the task run's state to the server and no file is written
  (Prefect 1 kept it in its database the same way). Meant for small values.
- :class:`ConstantResult` holds a value that is never written or read anywhere.
- :class:`S3Result`, :class:`GCSResult` and :class:`AzureResult` are a
  :class:`Result` whose locations are keys in one bucket (or container), reached
  through fsspec: their package (``s3fs``, ``gcsfs``, ``adlfs``) must be
  installed, and credentials come the way that package finds them (environment,
  config files) or as ``storage_options``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from weir.engine.results.base import INLINE_PREFIX, LocationTemplate, Result, inline_location
from weir.engine.serializers import JSONSerializer, Serializer
from weir.exceptions import ResultError

__all__ = ["AzureResult", "ConstantResult", "GCSResult", "PrefectResult", "S3Result"]


class PrefectResult(Result):
    """A Result kept in its location: ``inline:`` and the value's bytes.

    JSON by default, as in Prefect 1, so the value must be JSON-serializable
    unless another serializer is given. A task with ``result=PrefectResult()``
    and checkpointing on writes no file; a resumed run reads the value back from
    the task run's state.
    """

    inline = True

    def __init__(
        self, value: Any = None, location: str | None = None, serializer: Serializer | None = None
    ) -> None:
        super().__init__(
            value=value,
            location=location,
            serializer=serializer if serializer is not None else JSONSerializer(),
        )

    def format(self, **kwargs: Any) -> Result:
        # The place is the value itself, so there is no template to fill.
        return self.copy()

    def write(self, value: Any, /, **kwargs: Any) -> Result:
        new = self.copy()
        new.value = value
        new.location = inline_location(new.serializer.serialize(value))
        return new

    def exists(self, location: str, **kwargs: Any) -> bool:
        return location.startswith(INLINE_PREFIX)


class ConstantResult(Result):
    """A value known in advance: never stored, always there.

    Reading gives ``value`` back whatever the location; writing is refused,
    since there is nowhere to write to.
    """

    def __init__(self, value: Any = None, location: str | None = None, **kwargs: Any) -> None:
        super().__init__(value=value, location=location, **kwargs)

    def read(self, location: str) -> Result:
        return self.copy()

    def write(self, value: Any, /, **kwargs: Any) -> Result:
        raise ResultError(
            "A ConstantResult cannot be written: it only holds the value it was made "
            "with. Give the task a LocalResult, PrefectResult or a bucket's Result to "
            "keep what it returns."
        )

    def exists(self, location: str, **kwargs: Any) -> bool:
        return True


class _BucketResult(Result):
    """A Result whose relative locations are keys in one bucket of an object store."""

    #: The fsspec protocol of the store.
    protocol: ClassVar[str]
    #: The package a user installs for that protocol, named in errors.
    package: ClassVar[str]

    def __init__(
        self,
        bucket: str,
        location: LocationTemplate | None = None,
        serializer: Serializer | None = None,
        storage_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        bucket = bucket.strip("/")
        if not bucket or "://" in bucket:
            raise ResultError(
                f"{type(self).__name__} needs a bucket name such as 'my-bucket', got "
                f"{bucket!r}; put the path inside the bucket in location=."
            )
        super().__init__(location=location, serializer=serializer, **kwargs)
        self.bucket = bucket
        self.storage_options = dict(storage_options or {})

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: bucket={self.bucket!r} location={self.location!r}>"

    def _url(self, location: str) -> str:
        if "://" in location:
            return location
        return f"{self.protocol}://{self.bucket}/{location.lstrip('/')}"


class S3Result(_BucketResult):
    """Results as objects in an S3 bucket (needs ``s3fs``)."""

    protocol = "s3"
    package = "s3fs"


class GCSResult(_BucketResult):
    """Results as objects in a Google Cloud Storage bucket (needs ``gcsfs``)."""

    protocol = "gcs"
    package = "gcsfs"


class AzureResult(_BucketResult):
    """Results as blobs in an Azure Blob Storage container (needs ``adlfs``)."""

    protocol = "az"
    package = "adlfs"

    def __init__(self, container: str, **kwargs: Any) -> None:
        super().__init__(container, **kwargs)

    @property
    def container(self) -> str:
        return self.bucket
