"""The helpers benches and tests share to start servers in processes of their own."""

from __future__ import annotations

import subprocess
import sys

import pytest

from weir.server.testing import free_port, wait_healthy


def test_waiting_for_a_server_that_exits_says_so_with_what_it_wrote():
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.exit('no database here')"],
        stderr=subprocess.PIPE,
    )
    with pytest.raises(RuntimeError, match="exited with code 1. no database here"):
        wait_healthy(process, f"http://127.0.0.1:{free_port()}/api/v1", timeout=30)


def test_waiting_for_a_server_that_never_answers_times_out():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(TimeoutError, match="did not answer /health"):
            wait_healthy(process, f"http://127.0.0.1:{free_port()}/api/v1", timeout=0.3)
    finally:
        process.kill()
        process.wait()
