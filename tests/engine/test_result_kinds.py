"""Prefect 1's PrefectResult, ConstantResult and bucket Results."""

from __future__ import annotations

import pytest

from weir import Flow, task
from weir.engine.result import Result as OldPathResult
from weir.engine.results import (
    AzureResult,
    ConstantResult,
    GCSResult,
    PrefectResult,
    Result,
    S3Result,
)
from weir.engine.results.kinds import _BucketResult
from weir.exceptions import ResultError


def test_prefect_1_result_path_is_the_same_class() -> None:
    assert OldPathResult is Result


def test_prefect_result_keeps_the_value_in_its_location() -> None:
    written = PrefectResult().write({"rows": [1, 2]})
    assert written.location.startswith("inline:")
    assert PrefectResult().read(written.location).value == {"rows": [1, 2]}
    assert PrefectResult().exists(written.location)
    assert not PrefectResult().exists("somewhere/else.json")


def test_prefect_result_is_json_by_default() -> None:
    with pytest.raises(Exception, match="JSON|serializ"):
        PrefectResult().write(object())


def test_a_checkpointed_task_with_prefect_result_writes_no_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WEIR_HOME", str(tmp_path))
    big = list(range(5_000))  # far past the size weir would inline on its own

    @task(result=PrefectResult(), checkpoint=True)
    def rows() -> list[int]:
        return big

    with Flow("inline") as flow:
        out = rows()
    state = flow.run()
    assert state.is_successful()
    location = state.result[out].location
    assert location.startswith("inline:")
    assert PrefectResult().read(location).value == big
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir())


def test_constant_result_reads_its_value_and_refuses_writes() -> None:
    result = ConstantResult(value=42)
    assert result.read("anything").value == 42
    assert result.exists("anything")
    with pytest.raises(ResultError, match="ConstantResult cannot be written"):
        result.write(1)


class _MemoryBucket(_BucketResult):
    protocol = "memory"
    package = "fsspec"


def test_a_bucket_result_keeps_relative_locations_in_its_bucket() -> None:
    result = _MemoryBucket("results-bucket", location="{flow_name}/{task_name}.bin")
    written = result.write([1, 2], flow_name="etl", task_name="load")
    assert written.location == "memory://results-bucket/etl/load.bin"
    assert result.read("etl/load.bin").value == [1, 2]
    assert result.exists("{flow_name}/{task_name}.bin", flow_name="etl", task_name="load")
    # A full URL is taken as it is.
    assert result.read("memory://results-bucket/etl/load.bin").value == [1, 2]


@pytest.mark.parametrize(
    ("kind", "url"),
    [(S3Result, "s3://b/x/1.bin"), (GCSResult, "gcs://b/x/1.bin"), (AzureResult, "az://b/x/1.bin")],
)
def test_cloud_results_locate_in_their_store(kind: type[_BucketResult], url: str) -> None:
    result = kind("b", location="x/{map_index}.bin")
    assert result.locate(map_index=1).location == url


def test_azure_result_names_its_container() -> None:
    assert AzureResult("box").container == "box"


@pytest.mark.parametrize("bucket", ["", "s3://b"])
def test_a_bucket_must_be_a_name(bucket: str) -> None:
    with pytest.raises(ResultError, match="needs a bucket name"):
        S3Result(bucket)
