"""The server's CLI commands, against a real server on loopback (SQLite)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time

import httpx
import pytest
from click.testing import CliRunner

from weir.cli.main import cli
from weir.client import Client
from weir.server.app import create_app
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, free_port, temporary_database

pytestmark = pytest.mark.integration

FLOW = {
    "name": "etl",
    "tasks": [],
    "edges": [],
    "reference_tasks": [],
    "schedule": None,
    "parameters": [{"name": "n", "slug": "n", "default": 3, "required": False}],
}


@pytest.fixture(scope="module")
def server():
    with temporary_database("sqlite") as db:
        app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)
        with LiveServer(app) as live:
            yield live


@pytest.fixture
def invoke(server):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(
            cli, [*args], env={"WEIR_API_URL": server.url, "COLUMNS": "200"}, catch_exceptions=False
        )

    return run


def _drive(url: str, final: str) -> threading.Thread:
    """Play an agent and runner: claim the run, log a line, end it in ``final``."""

    def go() -> None:
        with Client(url) as c:
            [run] = c.claim(wait=20)
            started = c.set_flow_run_state(run.id, {"type": "Running"}, run.version)
            c.write_logs(
                [{"flow_run_id": str(run.id), "timestamp": time.time(), "message": "working hard"}]
            )
            c.set_flow_run_state(run.id, {"type": final, "message": "done"}, started.version)

    thread = threading.Thread(target=go)
    thread.start()
    return thread


def test_flow_ls_run_and_flow_run_commands(server, invoke):
    with Client(server.url) as c:
        c.register_flow(FLOW)
    listed = invoke("flow", "ls")
    assert listed.exit_code == 0 and "etl" in listed.output
    created = invoke("run", "etl", "--param", "n=5")
    assert created.exit_code == 0, created.output
    run_id = created.output.split("(")[-1].split(")")[0]
    with Client(server.url) as c:
        assert c.get_flow_run(run_id).parameters == {"n": 5}
    assert run_id in invoke("flow-run", "ls").output
    assert run_id in invoke("flow-run", "ls", "--state", "scheduled").output  # any case
    assert run_id not in invoke("flow-run", "ls", "--state", "FAILED").output
    unknown = invoke("flow-run", "ls", "--state", "broken")
    assert unknown.exit_code == 2 and "'broken' is not one of" in unknown.output
    shown = invoke("flow-run", "show", run_id)
    assert "Scheduled" in shown.output and "'n': 5" in shown.output
    assert "Cancelled" in invoke("flow-run", "cancel", run_id).output
    assert "cancel_requested" in invoke("flow-run", "trace", run_id).output
    # Resume is for a Paused run only: the refusal says so, without a traceback.
    refused = invoke("flow-run", "resume", run_id)
    assert refused.exit_code == 1 and "only a Paused run" in refused.output
    # Restarted, it is due again: cancelled once more, so later tests' claims do not take it.
    assert "Scheduled" in invoke("flow-run", "restart", run_id).output
    assert "Cancelled" in invoke("flow-run", "cancel", run_id).output
    missing = invoke("flow-run", "show", "00000000-0000-0000-0000-000000000000")
    assert missing.exit_code == 1 and "no flow run" in missing.output


def test_bad_parameter_is_reported_without_traceback(server, invoke):
    with Client(server.url) as c:
        c.register_flow(FLOW)
    result = invoke("run", "etl", "--param", "bogus=1")
    assert result.exit_code == 1
    assert "no parameter 'bogus'" in result.output


TYPED = {
    "name": "typed",
    "tasks": [],
    "edges": [],
    "reference_tasks": [],
    "schedule": None,
    "parameters": [
        {"name": "n", "slug": "n", "default": 3, "required": False},
        {"name": "who", "slug": "who", "default": "world", "required": False},
        {"name": "rate", "slug": "rate", "default": 0.5, "required": False},
        {"name": "items", "slug": "items", "default": [1], "required": False},
        {"name": "key", "slug": "key", "default": None, "required": True},
    ],
}


def test_params_are_read_as_the_flows_parameters_expect(server, invoke):
    with Client(server.url) as c:
        c.register_flow(TYPED)
    created = invoke(
        "run", "typed", "-p", "who=42", "-p", "n=7", "-p", "rate=2", "-p", "key=[1, 2]"
    )
    assert created.exit_code == 0, created.output
    run_id = created.output.split("(")[-1].split(")")[0]
    with Client(server.url) as c:
        parameters = c.get_flow_run(run_id).parameters
        c.cancel_flow_run(run_id)  # so that no later test's stand-in agent claims it
    # Text stays text for a text parameter; an integer serves where a number is asked.
    assert parameters == {"who": "42", "n": 7, "rate": 2, "items": [1], "key": [1, 2]}


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("n=three", "--param n=three is a string, but the parameter 'n' takes an integer"),
        ("n=1.5", "--param n=1.5 is a number, but the parameter 'n' takes an integer"),
        ("items={}", "takes an array (its default is [1]); write e.g. --param items=[1]"),
        ("n=true", "is a boolean, but the parameter 'n' takes an integer"),
    ],
)
def test_a_param_of_the_wrong_type_is_refused_before_a_run_is_made(server, invoke, given, said):
    with Client(server.url) as c:
        c.register_flow(TYPED)
        before = len(c.list_flow_runs(flow_name="typed"))
    result = invoke("run", "typed", "-p", "key=1", "-p", given)
    assert result.exit_code == 1 and said in result.output, result.output
    assert "HTTP" not in result.output
    with Client(server.url) as c:
        assert len(c.list_flow_runs(flow_name="typed")) == before


def test_a_missing_required_param_is_named_as_the_cli_takes_it(server, invoke):
    with Client(server.url) as c:
        c.register_flow(TYPED)
    result = invoke("run", "typed")
    assert result.exit_code == 1
    assert "Flow 'typed' needs --param key=…" in result.output


@pytest.mark.parametrize(("final", "code"), [("Success", 0), ("Failed", 1)])
def test_run_watch_follows_the_run_and_exits_by_its_end(server, invoke, final, code):
    with Client(server.url) as c:
        c.register_flow(FLOW)
    driver = _drive(server.url, final)
    result = invoke("run", "etl", "--watch")
    driver.join(30)
    assert result.exit_code == code, result.output
    assert "Running" in result.output and final in result.output
    assert "working hard" in result.output


def test_flow_run_logs_follow(server, invoke):
    with Client(server.url) as c:
        flow = c.register_flow(FLOW).flow
        run = c.create_flow_run(flow.id)
    driver = _drive(server.url, "Success")
    result = invoke("flow-run", "logs", "-f", str(run.id))
    driver.join(30)
    assert "working hard" in result.output


def test_api_key_create_ls_revoke(tmp_path):
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    runner = CliRunner()
    created = runner.invoke(
        cli, ["server", "api-key", "create", "ci", "--role", "read_only", "--database-url", url]
    )
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    prefix = key.split("_")[1]
    listed = runner.invoke(cli, ["server", "api-key", "ls", "--database-url", url])
    assert prefix in listed.output and key not in listed.output
    revoked = runner.invoke(cli, ["server", "api-key", "revoke", prefix, "--database-url", url])
    assert revoked.exit_code == 0
    unknown = runner.invoke(cli, ["server", "api-key", "revoke", "nope", "--database-url", url])
    assert unknown.exit_code == 1 and "no API key" in unknown.output


def test_start_refuses_a_public_address_without_auth():
    result = CliRunner().invoke(cli, ["server", "start", "--host", "0.0.0.0", "--no-auth"])
    assert result.exit_code == 2
    assert "--auth" in result.output and "api-key create" in result.output


def test_server_start_serves_health_on_a_new_database(tmp_path):
    port = free_port()
    env = {**os.environ, "WEIR_HOME": str(tmp_path), "WEIR_DATABASE_URL": "", "COLUMNS": "300"}
    env["WEIR_SERVER_ALLOWED_HOSTS"] = "ci.test"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from weir.cli.main import cli; cli()",
            "server",
            "start",
            "--port",
            str(port),
            "--retention",
            "30d",
            "--allowed-host",
            "weir.test",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read().decode()
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert health.json()["status"] == "ok"
        assert stat.S_IMODE((tmp_path / "weir.db").stat().st_mode) == 0o600
        # Only the host names it was given (and loopback's) are answered.
        url = f"http://127.0.0.1:{port}/api/v1/health"
        for name, status in (("weir.test", 200), ("ci.test:80", 200), ("evil.test", 400)):
            assert httpx.get(url, headers={"host": name}).status_code == status, name
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(20)
    assert "retention: 30d" in process.stdout.read().decode()


def test_a_run_is_named_by_a_short_id_or_its_name(server, invoke):
    with Client(server.url) as c:
        flow = c.register_flow(FLOW).flow
        runs = [c.create_flow_run(flow_id=flow.id, name=f"nightly-{i}") for i in range(2)]
        twins = [c.create_flow_run(flow_id=flow.id, name="twin") for _ in range(2)]
    short = runs[0].id.hex[:8]
    by_short = invoke("flow-run", "show", short)
    assert by_short.exit_code == 0, by_short.output
    assert str(runs[0].id) in by_short.output
    by_name = invoke("flow-run", "trace", "nightly-1")
    assert by_name.exit_code == 0 and "created" in by_name.output
    ambiguous = invoke("flow-run", "cancel", "twin")
    assert ambiguous.exit_code == 1
    assert "'twin' names 2 flow runs" in ambiguous.output
    assert all(str(t.id) in ambiguous.output for t in twins)
    unknown = invoke("flow-run", "logs", "no-such-run")
    assert unknown.exit_code == 1 and "`weir flow-run ls`" in unknown.output


def test_trace_fits_80_columns_and_prints_json(server):
    with Client(server.url) as c:
        flow = c.register_flow(FLOW).flow
        run = c.create_flow_run(flow_id=flow.id)
        long = {"error": "ValueError('" + "x" * 150 + "')", "storage": "local"}
        event = {"flow_run_id": str(run.id), "kind": "flow_load_failed", "data": long}
        c.write_trace_events([{**event, "timestamp": time.time(), "task_slug": "extract-1"}])
    runner = CliRunner()
    env = {"WEIR_API_URL": server.url, "COLUMNS": "80"}
    table = runner.invoke(cli, ["flow-run", "trace", str(run.id)], env=env)
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert max(len(line) for line in lines) <= 80, table.output
    assert any("flow_load_failed" in line for line in lines)  # event names never wrap
    assert "x" * 40 in table.output.replace("\n", "").replace("│", "").replace(" ", "")
    printed = runner.invoke(cli, ["flow-run", "trace", str(run.id), "--json"], env=env)
    events = json.loads(printed.output)
    assert [e["kind"] for e in events] == ["created", "flow_load_failed"]
    assert events[1]["data"] == long


def test_run_warns_when_no_live_agent_has_its_labels(server, invoke):
    with Client(server.url) as c:
        c.register_flow(FLOW, labels=["gpu-warn"])
    alone = invoke("run", "etl", "--label", "gpu-warn")
    assert alone.exit_code == 0, alone.output
    text = " ".join(alone.output.split())
    assert "No live agent with the labels gpu-warn" in text
    assert "`weir agent start --label gpu-warn`" in text
    with Client(server.url) as c:
        c.register_agent("other", labels=["cpu"])
        assert "No live agent" in invoke("run", "etl", "--label", "gpu-warn").output
        c.register_agent("gpu-box", labels=["gpu-warn", "big"])
    served = invoke("run", "etl", "--label", "gpu-warn")
    assert served.exit_code == 0 and "No live agent" not in served.output


def test_show_says_why_a_run_failed(server, invoke):
    with Client(server.url) as c:
        flow = c.register_flow(FLOW).flow
        run = c.create_flow_run(flow_id=flow.id)
        crash = "Error during execution of task: ValueError('bad row 7')"
        tb = "Traceback (most recent call last):\n  File ...\nValueError: bad row 7"
        items = [
            {"task_slug": "load-1", "map_index": -1, "state": {"type": "Success"}},
            {"task_slug": "parse-1", "map_index": 3, "state": {"type": "Failed", "message": crash}},
            {"task_slug": "check-1", "map_index": -1, "state": {"type": "Failed", "message": tb}},
        ]
        c.upsert_task_runs([{"flow_run_id": str(run.id), **item} for item in items])
    shown = invoke("flow-run", "show", str(run.id))
    assert shown.exit_code == 0, shown.output
    top = shown.output.split("Task runs")[0]
    assert "Failed task runs (2):" in top
    assert "parse-1[3]: Error during execution of task: ValueError('bad row 7')" in top
    assert "check-1: ValueError: bad row 7" in top
    assert "bad row 7" in shown.output.split("Task runs")[1]  # the messages column


def test_logs_name_a_mapped_child_by_its_map_index(server, invoke):
    with Client(server.url) as c:
        flow = c.register_flow(FLOW).flow
        run = c.create_flow_run(flow_id=flow.id)
        line = {"flow_run_id": str(run.id), "timestamp": time.time(), "level": 20}
        c.write_logs(
            [
                {**line, "task_slug": "fetch-1", "map_index": 3, "message": "child three"},
                {**line, "task_slug": "load-1", "map_index": None, "message": "plain"},
            ]
        )
    out = invoke("flow-run", "logs", str(run.id)).output
    assert "fetch-1[3]: child three" in out
    assert "load-1: plain" in out


def test_server_refusals_are_worded_for_the_command_line(server, invoke):
    missing = invoke("run", "no-such-flow")
    assert missing.exit_code == 1
    assert "no-such-flow" in missing.output
    # The reason alone: the API's method, path and status are the API's business.
    assert "/api/v1" not in missing.output and "failed (404)" not in missing.output
    from weir.cli.api_options import cli_wording

    said = "parameters.who: Input should be a valid string"
    assert cli_wording(said) == "--param who=…: Input should be a valid string"
    both = "Several projects have a flow called 'etl'; say which with `project`."
    assert cli_wording(both).endswith("say which with --project NAME.")


def test_a_flow_name_in_two_projects_asks_for_project_as_the_cli_takes_it(server, invoke):
    with Client(server.url) as c:
        c.register_flow({**FLOW, "name": "twice"}, project="one")
        c.register_flow({**FLOW, "name": "twice"}, project="two")
    result = invoke("run", "twice")
    assert result.exit_code == 1 and "say which with --project NAME" in result.output


def test_mistakes_a_command_lets_through_are_messages_not_tracebacks(server, invoke):
    with Client(server.url) as c:
        c.register_flow(FLOW)
    empty_name = invoke("run", "etl", "--name", "")
    assert empty_name.exit_code == 1
    assert "Invalid FlowRunCreate: name: String should have at least 1" in empty_name.output
    # The API URL without /api/v1 reaches the UI, which answers HTML.
    runner = CliRunner()
    base = server.url.removesuffix("/api/v1")
    for args in (["flow", "ls"], ["flow-run", "ls"]):
        wrong = runner.invoke(cli, args, env={"WEIR_API_URL": base}, catch_exceptions=False)
        assert wrong.exit_code == 1, wrong.output
        assert "Is the API URL right? weir's API is under /api/v1" in wrong.output


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("garbage", "The database URL 'garbage' is not a URL"),
        ("mysql://x@localhost/db", "not 'mysql'"),
        ("postgresql://postgres@127.0.0.1:5432/weir_no_such_db", 'database "weir_no_such_db"'),
        ("postgresql://u@127.0.0.1:notaport/db", "invalid literal for int()"),
        ("sqlite:////proc/weir/x.db", "No such file or directory"),
        ("sqlite:///{not_a_db}", "file is not a database"),
    ],
)
def test_server_start_with_a_database_it_cannot_use_says_why(url, said, tmp_path):
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("not a database at all\n" * 10)
    url = url.format(not_a_db=not_a_db)
    result = CliRunner().invoke(
        cli,
        ["server", "start", "--port", str(free_port()), "--database-url", url],
        catch_exceptions=False,
    )
    assert result.exit_code == 1
    assert said in result.output and "Traceback" not in result.output


def test_run_takes_prefect_1s_spellings(server, invoke):
    with Client(server.url) as c:
        flow_id = str(c.register_flow(FLOW).flow.id)
    created = invoke("run", "--id", flow_id, "--params", '{"n": 7}', "--run-name", "nightly")
    assert created.exit_code == 0, created.output
    run_id = created.output.split("(")[-1].split(")")[0]
    with Client(server.url) as c:
        made = c.get_flow_run(run_id)
    assert (made.parameters, made.name) == ({"n": 7}, "nightly")
    # Prefect 1's `prefect run --name FLOW`: here FLOW is the argument, --name the run's.
    missing = invoke("run", "--name", "etl")
    assert missing.exit_code == 2
    assert "Prefect 1's `prefect run --name FLOW` is `weir run etl`" in missing.output
    both = invoke("run", "etl", "--id", flow_id)
    assert both.exit_code == 2 and "not both" in both.output
    with Client(server.url) as c:
        c.register_flow(TYPED)
    # A required parameter given in --params counts as given.
    required = invoke("run", "typed", "--params", '{"key": "k1", "n": 4}')
    assert required.exit_code == 0, required.output
    unknown = invoke("run", "typed", "--params", '{"key": "k1", "nope": 1}')
    assert unknown.exit_code == 1 and "no parameter 'nope'" in unknown.output
