"""``weir flow-run`` (ls, show, logs, cancel, resume, restart, rm, trace) and ``weir run
FLOW``."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import click
from rich.table import Table

from weir.cli.api_options import api_client, api_options, console, state_text, when
from weir.cli.refs import resolve_flow_run
from weir.state_types import FAILED_TYPES, FINISHED_TYPES, SUCCESSFUL_TYPES, StateType


@click.group("flow-run")
def flow_run() -> None:
    """Flow runs: list, inspect, follow logs, cancel.

    RUN is a run's id, its first hex digits (at least four, as git takes short
    hashes) or its name; one that names several runs lists them.
    """


@flow_run.command("ls")
@click.option("--flow", "flow_name", default=None, help="Only runs of the flow with this name.")
@click.option("--project", default=None, help="Only runs of flows in this project.")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice([t.value for t in StateType], case_sensitive=False),
    help="Only runs in this state (repeatable; any case: failed, Failed).",
)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
@api_options
def list_runs(
    flow_name: str | None,
    project: str | None,
    states: tuple[str, ...],
    limit: int,
    offset: int,
    api_url: str | None,
    api_key: str | None,
) -> None:
    """List flow runs, newest first."""
    with api_client(api_url, api_key) as client:
        runs = client.list_flow_runs(
            flow_name=flow_name, project=project, state=list(states), limit=limit, offset=offset
        )
    table = Table("NAME", "FLOW", "STATE", "SCHEDULED", "STARTED", "ENDED")
    table.add_column("ID", no_wrap=True, min_width=36)
    for r in runs:
        table.add_row(
            r.name,
            f"{r.flow_name} v{r.flow_version}",
            state_text(r.state.type),
            when(r.scheduled_start_time),
            when(r.started_at),
            when(r.ended_at),
            str(r.id),
        )
    console.print(table)


@flow_run.command("show")
@click.argument("flow_run_id", metavar="RUN")
@api_options
def show(flow_run_id: str, api_url: str | None, api_key: str | None) -> None:
    """Show a flow run, its state history and its task runs."""
    with api_client(api_url, api_key) as client:
        flow_run_id = resolve_flow_run(client, flow_run_id)
        run = client.get_flow_run(flow_run_id)
        history = client.flow_run_states(flow_run_id)
        task_runs = client.list_task_runs(flow_run_id)
        parent, starter = _parent_of(client, run)
        children = client.list_flow_runs(parent_flow_run_id=flow_run_id, newest_first=False)
    console.print(
        f"[bold]{run.name}[/bold] ({run.id}) of flow {run.flow_name} "
        f"v{run.flow_version}: {state_text(run.state.type)}"
        + (f" — {run.state.message}" if run.state.message else "")
    )
    console.print(
        f"parameters: {run.parameters}  labels: {', '.join(run.labels) or '-'}  "
        f"scheduled: {when(run.scheduled_start_time)}"
    )
    if parent is not None:
        console.print(
            f"started by: {parent.name} ({parent.id})" + (f", task {starter}" if starter else ""),
            highlight=False,
        )
    states = Table("VERSION", "STATE", "AT", "MESSAGE", title="States")
    for item in history:
        states.add_row(
            str(item.version),
            state_text(item.state.type),
            when(item.state.timestamp),
            item.state.message or "",
        )
    console.print(states)
    failed = [t for t in task_runs if t.state.type in FAILED_TYPES]
    if failed:
        # Why the run failed, on screen: the failed tasks' own messages.
        console.print(f"[red]Failed task runs ({len(failed)}):[/red]")
        for t in failed[:SHOWN_FAILURES]:
            console.print(f"  {_task_run_name(t)}: {_last_line(t.state.message)}")
        if len(failed) > SHOWN_FAILURES:
            console.print(f"  … and {len(failed) - SHOWN_FAILURES} more (see the table below).")
    if task_runs:
        tasks = Table("TASK", "STATE", "UPDATED", "MESSAGE", title="Task runs")
        tasks.columns[3].overflow = "fold"
        for t in task_runs:
            tasks.add_row(
                _task_run_name(t),
                state_text(t.state.type),
                when(t.updated),
                t.state.message or "",
            )
        console.print(tasks)
    if children:
        table = Table("RUN", "ID", "FLOW", "STATE", title="Flow runs it started")
        for child in children:
            table.add_row(child.name, str(child.id), child.flow_name, state_text(child.state.type))
        console.print(table)


def _parent_of(client: Any, run: Any) -> tuple[Any, str | None]:
    """The run that started ``run`` (None: none did) and its task run's name, if known."""
    from weir.exceptions import ObjectNotFound

    if run.parent_flow_run_id is None:
        return None, None
    try:
        parent = client.get_flow_run(run.parent_flow_run_id)
    except ObjectNotFound:
        return None, None  # deleted since
    if run.parent_task_run_id is None:
        return parent, None
    try:
        return parent, _task_name(client.get_task_run(run.parent_task_run_id))
    except ObjectNotFound:
        return parent, None  # its state has not reached the server yet


#: How many failed task runs ``show`` lists above its tables.
SHOWN_FAILURES = 5


def _task_name(task_run: Any) -> str:
    """``slug`` or ``slug[3]`` for a mapped child."""
    index = task_run.map_index
    return task_run.task_slug + (f"[{index}]" if index is not None and index >= 0 else "")


def _task_run_name(task_run: Any) -> str:
    """A task run as ``_task_name`` shows it, and the name its ``task_run_name`` made
    when it has one: ``load-1[3] (load-orders)``."""
    shown = _task_name(task_run)
    return f"{shown} ({task_run.name})" if task_run.name else shown


def _last_line(message: str | None) -> str:
    """A state message's last non-empty line: an exception's own words, not its traceback."""
    lines = [line for line in (message or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(no message)"


def _print_log(log: Any) -> None:
    level = logging.getLevelName(log.level)
    where = f" {_task_name(log)}" if log.task_slug else ""
    click.echo(f"{when(log.timestamp)} {level:<8} {log.name}{where}: {log.message}")


@flow_run.command("logs")
@click.argument("flow_run_id", metavar="RUN")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until the run ends.")
@api_options
def logs(flow_run_id: str, follow: bool, api_url: str | None, api_key: str | None) -> None:
    """Print a flow run's logs."""
    with api_client(api_url, api_key) as client:
        flow_run_id = resolve_flow_run(client, flow_run_id)
        if follow:
            for log in client.follow_logs(flow_run_id):
                _print_log(log)
            return
        after = 0
        while True:
            page = client.get_logs(flow_run_id, after_id=after)
            for log in page.logs:
                _print_log(log)
            if not page.logs:
                return
            after = page.next_after_id


def _act_on_run(flow_run_id: str, api_url: str | None, api_key: str | None, method: str) -> None:
    """Call the client's ``method`` on the run ``flow_run_id`` names; print its new state."""
    with api_client(api_url, api_key) as client:
        run_id = resolve_flow_run(client, flow_run_id)
        _print_state(getattr(client, method)(run_id))


@flow_run.command("cancel")
@click.argument("flow_run_id", metavar="RUN")
@api_options
def cancel(flow_run_id: str, api_url: str | None, api_key: str | None) -> None:
    """Cancel a flow run (at once if it has not started, else at its next heartbeat)."""
    _act_on_run(flow_run_id, api_url, api_key, "cancel_flow_run")


@flow_run.command("resume")
@click.argument("flow_run_id", metavar="RUN")
@api_options
def resume(flow_run_id: str, api_url: str | None, api_key: str | None) -> None:
    """Approve a paused flow run's waiting tasks (manual_only, PAUSE) and run it on."""
    _act_on_run(flow_run_id, api_url, api_key, "resume_flow_run")


@flow_run.command("restart")
@click.argument("flow_run_id", metavar="RUN")
@api_options
def restart(flow_run_id: str, api_url: str | None, api_key: str | None) -> None:
    """Run a failed or cancelled flow run again, reusing the results of tasks that succeeded."""
    _act_on_run(flow_run_id, api_url, api_key, "restart_flow_run")


@flow_run.command("rm")
@click.argument("flow_run_id", metavar="RUN")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@api_options
def remove(flow_run_id: str, yes: bool, api_url: str | None, api_key: str | None) -> None:
    """Delete a finished flow run with its task runs, state history, logs and trace.

    A running run is refused: cancel it first. Needs an admin key when auth is on.
    """
    with api_client(api_url, api_key) as client:
        run = client.get_flow_run(resolve_flow_run(client, flow_run_id))
        console.print(
            f"Flow run [bold]{run.name}[/bold] ({run.id}) of flow {run.flow_name} "
            f"v{run.flow_version}: {state_text(run.state.type)}, ended {when(run.ended_at)}."
        )
        if not yes:
            click.confirm(
                "Delete it with its task runs, logs and trace? This cannot be undone",
                abort=True,
            )
        client.delete_flow_run(run.id)
    console.print(f"Deleted flow run {run.name} ({run.id}).")


def _print_state(run: Any) -> None:
    console.print(f"Flow run {run.name} ({run.id}): {state_text(run.state.type)}.")


@flow_run.command("trace")
@click.argument("flow_run_id", metavar="RUN")
@click.option("--json", "as_json", is_flag=True, help="Print the events as one JSON array.")
@api_options
def trace(flow_run_id: str, as_json: bool, api_url: str | None, api_key: str | None) -> None:
    """Print the run's trace: every step it went through, in time order."""
    with api_client(api_url, api_key) as client:
        flow_run_id = resolve_flow_run(client, flow_run_id)
        events = client.get_trace(flow_run_id)
    if as_json:
        click.echo(json.dumps([e.model_dump(mode="json") for e in events], indent=2))
        return
    start = events[0].timestamp if events else 0.0
    # One time for the whole trace, offsets per event, and the data folded inside its
    # column: the table fits an 80-column terminal.
    title = f"{len(events)} events from {when(start)}" if events else "no events yet"
    table = Table(title=f"Trace of flow run {flow_run_id}: {title}", title_justify="left")
    table.add_column("+S", justify="right", no_wrap=True)
    table.add_column("EVENT", no_wrap=True)
    table.add_column("TASK", overflow="fold", max_width=24)
    table.add_column("DATA", overflow="fold", ratio=1)
    for e in events:
        table.add_row(
            f"{e.timestamp - start:.3f}",
            e.kind,
            "" if e.task_slug is None else _task_name(e),
            ", ".join(f"{k}={v}" for k, v in e.data.items() if v is not None),
        )
    console.print(table)


@click.command("run")
@click.argument("flow", required=False)
@click.option("--id", "flow_id_option", default=None, help="The flow's id (instead of FLOW).")
@click.option("--project", default=None, help="The flow's project, when several have the name.")
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A parameter (value read as JSON when it is JSON); repeatable.",
)
@click.option(
    "--params",
    "params_json",
    default=None,
    metavar="JSON",
    help="Parameters as one JSON object, as Prefect 1 took them: '{\"n\": 3}'.",
)
@click.option("--label", "labels", multiple=True, help="Run labels (default: the flow's).")
@click.option("--name", "--run-name", "name", default=None, help="A name for the run.")
@click.option(
    "--watch", "-w", is_flag=True, help="Follow the run live; exit 0 only if it ends successful."
)
@api_options
def run(
    flow: str | None,
    flow_id_option: str | None,
    project: str | None,
    params: tuple[str, ...],
    params_json: str | None,
    labels: tuple[str, ...],
    name: str | None,
    watch: bool,
    api_url: str | None,
    api_key: str | None,
) -> None:
    """Create a run of FLOW (a flow name or id) for an agent to pick up.

    Each --param is read as the flow's parameter expects (see `weir flow show FLOW`):
    text for a parameter whose default is text, else JSON of its default's type.
    """
    from weir.cli.params import json_parameters, split_param, typed_parameters

    flow = _flow_argument(flow, flow_id_option, name)
    given = [split_param(p) for p in params]
    with api_client(api_url, api_key) as client:
        flow_id, flow_name = _flow_ref(flow)
        serialized = _serialized(client, flow_id, flow_name, project)
        parameters = typed_parameters(serialized, given, json_parameters(params_json))
        created = client.create_flow_run(
            flow_id,
            flow_name=flow_name,
            project=project,
            parameters=parameters,
            labels=list(labels) or None,
            name=name,
        )
        console.print(f"Created flow run {created.name} ({created.id}).")
        _warn_without_agent(client, created.labels)
        if not watch:
            return
        final = _watch_until_interrupted(client, created)
    sys.exit(0 if final in SUCCESSFUL_TYPES else 1)


def _flow_argument(flow: str | None, flow_id: str | None, name: str | None) -> str:
    """The flow to run, from FLOW or --id (one of them); a missing one is a usage error
    that speaks to Prefect 1 habits, where `prefect run --name FLOW` named the flow."""
    if flow is not None and flow_id is not None:
        raise click.UsageError("Give the flow as FLOW or with --id, not both.")
    chosen = flow if flow is not None else flow_id
    if chosen is None:
        hint = (
            f" (`--name {name}` names the run here; Prefect 1's `prefect run --name FLOW` is "
            f"`weir run {name}`)"
            if name
            else ""
        )
        raise click.UsageError(f"Say which flow to run: `weir run FLOW` or --id ID{hint}.")
    return chosen


#: An agent heard from within this many seconds is live (its claims wait at most 60 s).
LIVE_AGENT_SECONDS = 90.0


def _warn_without_agent(client: Any, labels: list[str]) -> None:
    """Say so when no live agent has all of the run's labels: it would wait for one."""
    now = time.time()
    for agent in client.list_agents(limit=1000):
        live = agent.last_heartbeat is not None and now - agent.last_heartbeat < LIVE_AGENT_SECONDS
        if live and set(labels) <= set(agent.labels):
            return
    wanted = f" with the labels {', '.join(labels)}" if labels else ""
    flags = "".join(f" --label {label}" for label in labels)
    console.print(
        f"[yellow]No live agent{wanted} is polling this server, so the run waits until "
        f"one does: start one with `weir agent start{flags}`.[/yellow]"
    )


def _watch_until_interrupted(client: Any, run: Any) -> Any:
    """Follow the run; on Ctrl-C say that the run goes on without us, and how to stop it."""
    try:
        return _watch(client, run.id)
    except KeyboardInterrupt:
        short = run.id.hex[:8]
        console.print(
            f"\nStopped watching. Flow run {run.name} ({run.id}) goes on: follow it again "
            f"with `weir flow-run logs -f {short}`, or stop it with "
            f"`weir flow-run cancel {short}`."
        )
        sys.exit(130)


def _serialized(
    client: Any, flow_id: str | None, name: str | None, project: str | None
) -> dict[str, Any] | None:
    """The graph of the flow version a run would use, when one version is found; else None
    (the server then says what is wrong)."""
    from weir.exceptions import ClientError

    try:
        if flow_id is not None:
            return dict(client.get_flow(flow_id).serialized_flow)
        found = client.list_flows(name=name, project=project, full=True)
    except ClientError:
        return None
    return dict(found[-1].serialized_flow) if len(found) == 1 else None


def _flow_ref(flow: str) -> tuple[str | None, str | None]:
    import uuid

    try:
        return str(uuid.UUID(flow)), None
    except ValueError:
        return None, flow


def _print_state_item(item: Any) -> None:
    message = f" — {item.state.message}" if item.state.message else ""
    console.print(f"{when(item.state.timestamp)} {state_text(item.state.type)}{message}")


def _watch(client: Any, flow_run_id: Any, poll: float = 0.25) -> Any:
    """Print every state the run takes and its log lines as they come; return its end state."""
    seen_version, after = 0, 0
    while True:
        current = client.get_flow_run(flow_run_id)
        # States and log lines new since the last poll, printed together in time order.
        new: list[tuple[float, Callable[[], None]]] = []
        if current.version != seen_version:
            # The history may already hold states newer than ``current``: remember the
            # newest printed, so that none is printed twice.
            for item in client.flow_run_states(flow_run_id):
                if item.version > seen_version:
                    new.append((item.state.timestamp, partial(_print_state_item, item)))
                    seen_version = item.version
        page = client.get_logs(flow_run_id, after_id=after)
        new.extend((log.timestamp, partial(_print_log, log)) for log in page.logs)
        for _, show in sorted(new, key=lambda entry: entry[0]):
            show()
        after = page.next_after_id
        if current.state.type in FINISHED_TYPES and not page.logs:
            return current.state.type
        if not page.logs:
            time.sleep(poll)
