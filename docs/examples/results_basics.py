"""Results: a location template, a serializer, write/read/exists, and any fsspec URL."""

from __future__ import annotations

import tempfile

from weir.engine.results import LocalResult, Result
from weir.engine.serializers import JSONSerializer

results_dir = tempfile.mkdtemp()
result = LocalResult(
    dir=results_dir,
    location="{flow_name}/{task_name}/{map_index}.json",
    serializer=JSONSerializer(),
)

written = result.write({"rows": 3}, flow_name="etl", task_name="extract", map_index=0)
print(written.location.removeprefix(results_dir))  # /etl/extract/0.json
print(result.read(written.location).value)  # {'rows': 3}
print(
    result.exists(
        "{flow_name}/{task_name}/{map_index}.json",
        flow_name="etl",
        task_name="extract",
        map_index=1,
    )
)  # False

# Any fsspec URL works with the generic Result: memory://, file://, s3:// (with s3fs) …
remote = Result(location="memory://bucket/{task_name}.bin")
print(remote.write([1, 2], task_name="load").location)  # memory://bucket/load.bin
