"""register_flow and flow.register() against a real server on loopback (SQLite, PostgreSQL)."""

from __future__ import annotations

import importlib
import json
import os
import pickle
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from weir import Flow, task
from weir.client import Client
from weir.exceptions import StorageError
from weir.executors import ThreadExecutor
from weir.registration import Registration, register_flow
from weir.server.app import create_app
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, clear, require_postgres, temporary_database
from weir.storage import Local, Remote, storage_from_dict
from weir.storage.scripts import flows_in_script

SCRIPT = """
from weir import Flow, Parameter, task


@task
def inc(x):
    return x + {step}


with Flow("etl") as flow:
    n = Parameter("n", default=1)
    inc(inc(n))

with Flow("report") as report:
    inc(10)
{extra}
"""


def write_script(path: Path, step: int = 1, extra: str = "") -> Path:
    path.write_text(SCRIPT.format(step=step, extra=textwrap.dedent(extra)))
    return path


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[LiveServer, object]]:
    if request.param == "postgresql":
        require_postgres()
    with temporary_database(request.param) as db:
        app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)
        with LiveServer(app) as live:
            yield live, db


@pytest.fixture
def api_url(server, monkeypatch) -> str:
    live, db = server
    clear(db)
    monkeypatch.setenv("WEIR_API_URL", live.url)
    monkeypatch.delenv("WEIR_API_KEY", raising=False)
    return live.url


@pytest.fixture
def client(api_url) -> Iterator[Client]:
    with Client(api_url) as c:
        yield c


def test_a_scripts_flows_register_once_and_again_only_when_changed(tmp_path, client):
    script = write_script(tmp_path / "flows.py")
    first = {
        name: register_flow(flow, client=client, storage=Local(path=script), labels=["a"])
        for name, flow in flows_in_script(script).items()
    }
    assert all(r.created and r.version == 1 for r in first.values())
    again = {
        name: register_flow(flow, client=client, storage=Local(path=script), labels=["a"])
        for name, flow in flows_in_script(script).items()
    }
    assert {n: (r, r.created) for n, r in again.items()} == {
        n: (r, False) for n, r in first.items()
    }
    write_script(script, extra="with Flow('etl') as flow:\n    inc(inc(inc(1)))\n")
    changed = register_flow(flows_in_script(script)["etl"], client=client, storage=Local(script))
    assert changed.created and changed.version == 2 and changed != first["etl"]
    stored = client.get_flow(changed)
    assert stored.storage == {
        "type": "Local",
        "flows": {"etl": str(script)},
        "path": str(script),
        "stored_as_script": True,
    }
    assert stored.serialized_flow == flows_in_script(script)["etl"].serialize()
    assert client.get_flow(first["etl"]).archived


def test_the_registration_is_the_flow_id(tmp_path, client):
    script = write_script(tmp_path / "flows.py")
    result = register_flow(flows_in_script(script)["etl"], client=client, project="team")
    assert isinstance(result, Registration) and isinstance(result, str)
    assert (result.name, result.project, result.version) == ("etl", "team", 1)
    run = client.create_flow_run(flow_id=result)
    assert str(run.flow_id) == result.flow_id == result
    copy = pickle.loads(pickle.dumps(result))
    assert (copy, copy.version, copy.created) == (result, 1, True)
    assert json.dumps({"id": result}) == json.dumps({"id": result.flow_id})


def test_idempotent_false_makes_a_new_version_every_time(tmp_path, client):
    flow = flows_in_script(write_script(tmp_path / "flows.py"))["report"]
    storage = Local(path=tmp_path / "flows.py")
    versions = [
        register_flow(flow, client=client, storage=storage, idempotent=False).version
        for _ in range(3)
    ]
    assert versions == [1, 2, 3]
    stored = client.get_flow(client.list_flows(name="report")[0].id).storage
    assert storage_from_dict(stored).get_flow("report").name == "report"


def test_the_executor_and_run_config_are_sent(tmp_path, client):
    script = write_script(tmp_path / "flows.py")
    flow = flows_in_script(script)["etl"]
    flow.executor = ThreadExecutor(max_workers=2)
    flow.run_config = {"env": {"A": "1"}}
    stored = client.get_flow(register_flow(flow, client=client, labels=["b", "a", "a"]))
    assert stored.executor == flow.executor.serialize()
    assert stored.run_config == {"env": {"A": "1"}}
    assert stored.labels == ["a", "b"]


def test_flow_register_from_python_uses_the_module_that_defines_the_flow(
    tmp_path, api_url, monkeypatch
):
    write_script(tmp_path / "weir_test_registered_flows.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("weir_test_registered_flows")
    try:
        flow_id = module.flow.register(project="py", labels=["x"])
        assert not module.flow.register(project="py", labels=["x"]).created
    finally:
        sys.modules.pop("weir_test_registered_flows", None)
    with Client(api_url) as client:
        stored = client.get_flow(flow_id)
    path = str((tmp_path / "weir_test_registered_flows.py").resolve())
    assert stored.storage["flows"] == {"etl": path}
    assert (stored.project, stored.labels) == ("py", ["x"])


def test_flow_register_in_a_script_run_as_main(tmp_path, api_url):
    script = write_script(
        tmp_path / "main_flow.py",
        extra="""
        if __name__ == "__main__":
            result = flow.register(labels=["main"])
            print(result, result.version, result.created)
        """,
    )
    env = {**os.environ, "WEIR_API_URL": api_url}
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    flow_id, version, created = out.stdout.split()
    assert (version, created) == ("1", "True")
    with Client(api_url) as client:
        stored = client.get_flow(flow_id)
    assert stored.storage["flows"] == {"etl": str(script.resolve())}
    loaded = storage_from_dict(stored.storage).get_flow("etl")
    assert loaded.serialize() == stored.serialized_flow


FLOW_BUILT_IN_MAIN = """
from weir import Flow, Parameter, task

@task
def double(x):
    return 2 * x

def main():
    # As Prefect 1's tutorials build theirs: inside a function, not at the top level.
    with Flow("built-in-main") as flow:
        double(Parameter("x", default=21))
    result = flow.register(project_name="tutorial")
    print(result)

if __name__ == "__main__":
    main()
"""


def test_a_flow_built_inside_a_function_is_stored_so_a_run_can_load_it(tmp_path, api_url):
    # Its script holds no flow at its top level, so a run could not load it from there:
    # it is stored as a pickle, as Prefect 1's Local storage stored every flow.
    script = tmp_path / "tutorial.py"
    script.write_text(FLOW_BUILT_IN_MAIN)
    env = {**os.environ, "WEIR_API_URL": api_url, "WEIR_HOME": str(tmp_path / "home")}
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert "it is built inside a function, or in an interactive session" in out.stderr
    with Client(api_url) as client:
        stored = client.get_flow(out.stdout.split()[0])
    assert stored.storage["stored_as_script"] is False
    storage = storage_from_dict(stored.storage)
    loaded = storage.get_flow("built-in-main")
    [double] = loaded.get_tasks(name="double")
    assert loaded.run().result[double].result == 42


def test_remote_storage_registers_and_loads_back(tmp_path, client):
    script = write_script(tmp_path / "flows.py")
    url = (tmp_path / "bucket").as_uri() + "/"
    result = register_flow(flows_in_script(script)["etl"], client=client, storage=Remote(url))
    unchanged = register_flow(flows_in_script(script)["etl"], client=client, storage=Remote(url))
    assert result.created and not unchanged.created
    write_script(script, step=5)  # a task body only: the graph is the same, the script is not
    changed = register_flow(flows_in_script(script)["etl"], client=client, storage=Remote(url))
    assert changed.created and changed.version == 2
    old = storage_from_dict(client.get_flow(result).storage).get_flow("etl")
    new = storage_from_dict(client.get_flow(changed).storage).get_flow("etl")
    assert old.serialize() == new.serialize()
    assert len(list((tmp_path / "bucket" / "etl").iterdir())) == 2


def test_a_storage_shared_by_flows_sends_each_flow_its_own_entry(tmp_path, client):
    script = write_script(tmp_path / "flows.py")
    storage = Local(path=script)
    flows = flows_in_script(script)
    etl = register_flow(flows["etl"], client=client, storage=storage)
    register_flow(flows["report"], client=client, storage=storage)
    assert not register_flow(flows["etl"], client=client, storage=storage).created
    assert client.get_flow(etl).storage["flows"] == {"etl": str(script)}


def test_a_flow_with_something_else_as_storage_is_refused(client):
    @task
    def one():
        return 1

    with Flow("odd", storage="s3://bucket") as flow:
        one()
    with pytest.raises(StorageError, match="Flow 'odd' has storage 's3://bucket'"):
        register_flow(flow, client=client)
    assert client.list_flows() == []


def test_loading_a_registered_flow_by_a_wrong_name_lists_the_scripts_flows(tmp_path, client):
    script = write_script(tmp_path / "flows.py")
    stored = client.get_flow(register_flow(flows_in_script(script)["etl"], client=client))
    with pytest.raises(StorageError, match=r"no flow named 'etl2'.*'etl', 'report'"):
        storage_from_dict(stored.storage).get_flow("etl2")
    script.unlink()
    with pytest.raises(StorageError, match="no flow script at"):
        storage_from_dict(stored.storage).get_flow("etl")


def test_the_storage_type_reaches_the_server_as_json(tmp_path, client):
    script = write_script(tmp_path / "flows.py")
    flow_id = register_flow(flows_in_script(script)["report"], client=client)
    raw = client.request("GET", f"flows/{flow_id}")
    assert json.loads(json.dumps(raw["storage"]))["type"] == "Local"


class TestPrefect1Names:
    """flow.register(project_name=, labels=, idempotency_key=, add_default_labels=, ...)."""

    def test_project_name_and_labels_as_in_prefect_1(self, tmp_path, api_url, client):
        flow = flows_in_script(write_script(tmp_path / "flows.py"))["etl"]
        flow_id = flow.register(project_name="p1", labels=["x"], no_url=True)
        stored = client.get_flow(flow_id)
        assert (stored.project, stored.labels) == ("p1", ["x"])

    def test_the_run_configs_labels_join_the_flows(self, tmp_path, api_url, client):
        from weir.run_configs import LocalRun

        flow = flows_in_script(write_script(tmp_path / "flows.py"))["etl"]
        flow.run_config = LocalRun(env={"A": "1"}, working_dir=str(tmp_path), labels=["gpu"])
        stored = client.get_flow(flow.register(labels=["x"]))
        assert stored.labels == ["gpu", "x"]
        assert stored.run_config == {
            "type": "LocalRun",
            "env": {"A": "1"},
            "working_dir": str(tmp_path),
            "labels": ["gpu"],
        }

    def test_add_default_labels_adds_this_machines_host_name(self, tmp_path, api_url, client):
        import socket

        flow = flows_in_script(write_script(tmp_path / "flows.py"))["etl"]
        stored = client.get_flow(flow.register(add_default_labels=True))
        assert stored.labels == [socket.gethostname()]

    def test_storage_keywords_of_prefect_1(self, tmp_path, api_url, client):
        import socket

        from weir.storage import Local

        flow = flows_in_script(write_script(tmp_path / "flows.py"))["etl"]
        # The everyday idiom: no host label (weir's default), and the other keywords.
        flow.storage = Local(add_default_labels=False, validate=True, secrets=["TOKEN"])
        assert client.get_flow(flow.register()).labels == []
        other = flows_in_script(write_script(tmp_path / "flows2.py", step=5))["etl"]
        other.storage = Local(labels=["etl-box"], add_default_labels=True)
        stored = client.get_flow(other.register(labels=["x"]))
        assert stored.labels == sorted(["etl-box", "x", socket.gethostname()])
        with pytest.raises(TypeError, match="lists of strings"):
            Local(labels="etl-box")

    def test_new_labels_make_a_new_version(self, tmp_path, api_url, client):
        # The labels say which agents run it: an unchanged flow given others must not
        # come back as the old version, its runs still going where they went.
        flow = flows_in_script(write_script(tmp_path / "flows.py"))["etl"]
        first = flow.register()
        labelled = flow.register(labels=["gpu"])
        assert labelled.created and labelled.version == first.version + 1
        assert client.get_flow(labelled).labels == ["gpu"]
        again = flow.register(labels=["gpu"])
        assert (again, again.created) == (labelled, False)

    def test_a_version_group_id_is_refused_with_the_reason(self):
        with pytest.raises(ValueError, match=r"version_group_id=\.\.\.\) is not supported"):
            Flow("f").register(version_group_id="abc")

    def test_the_same_idempotency_key_makes_no_new_version_even_if_the_flow_changed(
        self, tmp_path, api_url, client
    ):
        first = flows_in_script(write_script(tmp_path / "flows.py"))["etl"]
        one = first.register(idempotency_key="release-1")
        changed = flows_in_script(write_script(tmp_path / "flows2.py", step=5))["etl"]
        again = changed.register(idempotency_key="release-1")
        assert (again, again.created, again.version) == (one, False, 1)
        # A new key makes a new version, even with nothing changed.
        newer = changed.register(idempotency_key="release-2")
        assert newer.created and newer.version == 2
        same = changed.register(idempotency_key="release-2")
        assert not same.created

    def test_set_schedule_active_false_registers_the_schedule_off(self, tmp_path, api_url, client):
        import datetime

        from weir.schedules import IntervalSchedule

        flow = flows_in_script(write_script(tmp_path / "flows.py"))["etl"]
        flow.schedule = IntervalSchedule(interval=datetime.timedelta(hours=1))
        stored = client.get_flow(flow.register(set_schedule_active=False))
        assert stored.schedule_active is False

    def test_register_inside_the_flow_block_says_to_call_it_after(self):
        with pytest.raises(ValueError, match="call it after the block"):
            with Flow("early") as flow:
                flow.register()

    def test_build_false_is_refused_with_the_reason(self):
        with pytest.raises(ValueError, match=r"register\(build=False\) is not supported"):
            Flow("f").register(build=False)

    def test_a_register_call_in_a_script_weir_loads_is_skipped(self, tmp_path, api_url, client):
        script = write_script(
            tmp_path / "self_registering.py",
            extra="""
            flow.register(project_name="from-script")
            """,
        )
        with pytest.warns(UserWarning, match="is skipped"):
            flows = flows_in_script(script)
        assert set(flows) == {"etl", "report"}
        assert client.list_flows(project="from-script") == []

    def test_a_run_call_in_a_script_weir_loads_is_skipped(self, tmp_path):
        # Prefect 1's docs end scripts with `flow.run()` at module level; loading the
        # script to register it (or for an agent's run) must not run the flow, nor
        # wait on its schedule for ever.
        marker = tmp_path / "ran.txt"
        script = write_script(
            tmp_path / "runs_itself.py",
            extra=f"""
            from weir.schedules import IntervalSchedule
            import datetime
            flow.schedule = IntervalSchedule(interval=datetime.timedelta(hours=1))
            open({str(marker)!r}, "a").write("loaded\\n")
            state = flow.run()
            assert state is None
            """,
        )
        with pytest.warns(UserWarning, match=r"flow.run\(\) in a script weir is loading"):
            flows = flows_in_script(script)
        assert set(flows) == {"etl", "report"}
        assert marker.read_text() == "loaded\n"


class TestRunConfigs:
    def test_each_kind_serializes_what_it_holds(self):
        from weir.run_configs import DockerRun, LocalRun, UniversalRun

        assert UniversalRun().serialize() == {"type": "UniversalRun", "labels": []}
        assert LocalRun(working_dir="/srv", labels=["b", "a"]).serialize() == {
            "type": "LocalRun",
            "labels": ["a", "b"],
            "working_dir": "/srv",
        }
        assert DockerRun(image="etl:1", env={"N": 3}).serialize() == {
            "type": "DockerRun",
            "labels": [],
            "env": {"N": 3},
            "image": "etl:1",
        }
        assert LocalRun(env={"A": "1"}) == LocalRun(env={"A": "1"})

    def test_a_string_for_labels_is_refused_with_the_fix(self):
        from weir.run_configs import UniversalRun

        with pytest.raises(TypeError, match=r"write labels=\['gpu'\]"):
            UniversalRun(labels="gpu")

    def test_a_bad_env_in_a_run_config_is_refused_at_registration(self, tmp_path, client):
        from weir.exceptions import ClientError
        from weir.run_configs import LocalRun

        flow = flows_in_script(write_script(tmp_path / "flows.py"))["etl"]
        flow.run_config = LocalRun(env={"A=B": "1"})
        with pytest.raises(ClientError, match="run_config"):
            register_flow(flow, client=client)


@pytest.mark.integration
def test_a_script_that_registers_its_flow_and_runs_an_agent_serves_its_runs(
    tmp_path, api_url, client
):
    # Prefect 1's docs (idioms/pause-for-approval): flow.register(), then flow.run_agent().
    import signal

    from weir.utilities.waiting import wait_until

    script = write_script(
        tmp_path / "serves_itself.py",
        extra="""
        if __name__ == "__main__":
            flow.register(project_name="served", labels=["own-agent"])
            flow.run_agent()
        """,
    )
    env = {**os.environ, "WEIR_API_URL": api_url, "WEIR_HOME": str(tmp_path / "home")}
    agent = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        [etl] = wait_until(lambda: client.list_flows(name="etl"), 60)
        assert etl.labels == ["own-agent"]
        run = client.create_flow_run(etl.id, parameters={"n": 5})
        final = client.wait_for_flow_run(run.id, poll=0.2, timeout=60)
        assert final.state.type.value == "Success"
    finally:
        agent.send_signal(signal.SIGTERM)
        output, _ = agent.communicate(timeout=60)
    assert output.count("serving the runs of flow 'etl' (labels: ['own-agent'])") == 1, output
    assert agent.returncode == 0, output


def test_run_agent_for_a_flow_never_registered_says_so(api_url):
    from weir.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="is not registered on .*call flow.register"):
        Flow("never-registered").run_agent()
