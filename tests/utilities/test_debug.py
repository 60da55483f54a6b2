"""weir.utilities.debug: Prefect 1's debugging helpers."""

from __future__ import annotations

import pytest


def test_is_serializable_loads_the_pickle_in_a_fresh_process(tmp_path, monkeypatch) -> None:
    # Prefect 1's utilities.debug.is_serializable: pickled here, loaded in a new process.
    import subprocess
    import sys
    import threading

    from weir import Flow, task
    from weir.utilities.debug import is_serializable

    @task
    def double(x):
        return 2 * x

    with Flow("serializable") as flow:
        double(2)
    assert is_serializable(flow)
    assert not is_serializable(threading.Lock())
    # A class only this process can import pickles by reference and fails to load.
    (tmp_path / "only_here.py").write_text("class Thing:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import only_here

    assert not is_serializable(only_here.Thing())
    with pytest.raises(subprocess.CalledProcessError) as failed:
        is_serializable(only_here.Thing(), raise_on_error=True)
    assert b"only_here" in failed.value.output
    sys.modules.pop("only_here", None)
