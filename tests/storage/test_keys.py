"""Flow slugs, content keys, and keys that may not leave their base."""

from __future__ import annotations

import pytest

from weir.exceptions import StorageError
from weir.storage.keys import check_key, content_key, flow_slug, join_key


@pytest.mark.parametrize(
    ("name", "slug"),
    [("etl", "etl"), ("ETL / daily", "ETL-daily"), ("../../etc", "etc"), ("..", "flow")],
)
def test_flow_slug_is_a_safe_file_name(name, slug):
    assert flow_slug(name) == slug


def test_content_key_follows_the_bytes():
    assert content_key("etl", b"a", ".py") == content_key("etl", b"a", ".py")
    assert content_key("etl", b"a", ".py") != content_key("etl", b"b", ".py")
    # The flow's name makes one path part, never a climb out of the directory.
    assert content_key("a/../b", b"a", ".py").split("/")[0] == "a-..-b"


@pytest.mark.parametrize("key", ["etl/abc.py", "a/b/c.py", "flow.py", "./x.py"])
def test_keys_inside_the_base_pass(key):
    assert join_key("memory://flows/", key) == "memory://flows/" + key


@pytest.mark.parametrize(
    "key", ["../x.py", "a/../../x.py", "a/..", "/etc/passwd", "..\\x.py", "c:/x.py", "s3://b/x"]
)
def test_keys_that_escape_are_refused(key):
    with pytest.raises(StorageError, match="would leave its base memory://flows"):
        check_key(key, "memory://flows")


def test_an_empty_key_is_refused():
    with pytest.raises(StorageError, match="non-empty string"):
        check_key("", "memory://flows")
