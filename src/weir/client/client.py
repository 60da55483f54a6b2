"""weir's HTTP client: one typed method per REST endpoint.

Each request is tried again as its policy says (``weir.client.retrying``: a
client's own, ``API_CALL`` by default, or the one a call names); an
error answer raises ``ObjectNotFound`` (404), ``ConflictError`` (409;
``SupersededError`` when the write came from an older attempt of its flow run)
or ``ClientError`` (anything else) carrying the server's own explanation.
"""

from __future__ import annotations

import copy
import datetime
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from weir.client import settings
from weir.client.retrying import API_CALL, HEARTBEAT, Policy
from weir.exceptions import ClientError, ConflictError, ObjectNotFound, SupersededError
from weir.schemas import actions, jsontext, responses
from weir.state_types import FINISHED_TYPES

M = TypeVar("M", bound=BaseModel)
Id = uuid.UUID | str
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_JSON_HEADERS = {"content-type": "application/json"}
#: Transport errors of a request that never reached its server.
_NOT_CONNECTED = (httpx.ConnectError, httpx.ConnectTimeout)


def _state(state: Any) -> dict[str, Any]:
    """A state as the API takes it: StateData, a dict, or anything with ``to_dict()``."""
    if isinstance(state, BaseModel):
        return state.model_dump(mode="json", exclude_none=True)
    if isinstance(state, Mapping):
        return dict(state)
    to_dict = getattr(state, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    raise TypeError(f"Cannot send {state!r} as a state: give a StateData, a dict or a State.")


def _with_trace(
    body: dict[str, Any], trace: Iterable[actions.TraceEventCreate | Mapping[str, Any]]
) -> dict[str, Any]:
    """An agent's request body with its trace events (``trace``), when it has any: only
    then, since an older server refuses the field."""
    events = _body(actions.TraceEventCreate, trace)
    return {**body, "trace": events} if events else body


def _body(model: type[BaseModel], items: Iterable[BaseModel | Mapping[str, Any]]) -> list[Any]:
    """Items as JSON, checked against the action model first (ids and enums made text)."""
    out = []
    for item in items:
        if not isinstance(item, BaseModel):
            data = dict(item)
            if "state" in data:
                data["state"] = _state(data["state"])
            item = model.model_validate(data)
        out.append(item.model_dump(mode="json", exclude_none=True))
    return out


def _error_message(response: httpx.Response) -> str:
    """``METHOD /path failed (status): detail``: the API's own wording of a refusal."""
    request = response.request
    detail = _error_detail(response)
    return f"{request.method} {request.url.path} failed ({response.status_code}): {detail}"


def _url_hint(response: httpx.Response) -> str:
    """What to check when a request went somewhere that is not weir's API."""
    if "/api/v1/" in response.request.url.path:
        return ""
    return (
        " Is the API URL right? weir's API is under /api/v1: set WEIR_API_URL (or "
        "--api-url) to e.g. http://127.0.0.1:4200/api/v1."
    )


def field_errors(errors: Iterable[Mapping[str, Any]]) -> str:
    """Pydantic's validation errors (the server's 422 ``detail``, or a model's own
    ``ValidationError.errors()``) as one line, each naming its field."""
    parts = []
    for err in errors:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
        parts.append(f"{loc}: {err.get('msg')}" if loc else str(err.get("msg")))
    return "; ".join(parts)


def _error_detail(response: httpx.Response) -> str:
    """What the server said was wrong, each refused field named."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, list):  # pydantic validation errors: name each field
        detail = field_errors(detail)
    if not detail:
        detail = response.text[:500] or response.reason_phrase
    return str(detail)


def _error_field(response: httpx.Response) -> str | None:
    """The ``field`` a server error names, if any."""
    try:
        field = response.json().get("field")
    except (ValueError, AttributeError):
        return None
    return field if isinstance(field, str) else None


class Client:
    """A connection to a weir server (``WEIR_API_URL``, ``WEIR_API_KEY``)."""

    def __init__(
        self,
        api_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int | None = None,
        backoff: float | None = None,
        policy: Policy = API_CALL,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``policy``: how requests are tried again unless a call names its own;
        ``retries`` (tries after the first) and ``backoff`` (the first wait) adjust it."""
        #: The servers, in the order they are tried (see ``_send``).
        self.api_urls = settings.api_urls(api_url)
        #: All of them, comma-separated: what a process started for a run is given.
        self.api_url = ",".join(self.api_urls)
        #: The index of the server in use, in a list its copies (``using``) share.
        self._server = [0]
        key = settings.api_key(api_key, self.api_url)
        #: Kept so that a task run elsewhere (a worker process, Dask) can reach the server too.
        self.api_key = key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.timeout = timeout
        if retries is not None:
            policy = policy.replace(attempts=retries + 1)
        if backoff is not None:
            policy = policy.replace(wait_initial=backoff)
        self.policy = policy
        self._http = httpx.Client(
            base_url=self.api_urls[0] + "/", headers=headers, timeout=timeout, transport=transport
        )

    @property
    def server_url(self) -> str:
        """The URL of the server this client sends to now (one of ``api_urls``)."""
        return self.api_urls[self._server[0]]

    def using(self, policy: Policy) -> Client:
        """This client (its connections, key and attempt) with ``policy`` for every call.

        Closing either closes both.
        """
        other = copy.copy(self)
        other.policy = policy
        return other

    def close(self) -> None:
        self._http.close()

    def fence(self, attempt: int) -> None:
        """Send ``attempt`` with every request from now on: the flow-run process's writes.

        The server then refuses this client's state writes, heartbeats and task-run
        batches once another attempt has taken the run over (``SupersededError``).
        """
        self._http.headers[actions.ATTEMPT_HEADER] = str(attempt)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ----------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        policy: Policy | None = None,
    ) -> Any:
        """Send one request, tried again as ``policy`` says (default: the client's);
        return the decoded JSON."""
        # Encoded once (and fast: the reporter sends batches of a thousand items).
        content = None if json is None else jsontext.dumps(json)
        headers = _JSON_HEADERS if content is not None else None
        query = _params(params)
        url = path.lstrip("/")

        def send() -> Any:
            response = self._send(
                method,
                url,
                content=content,
                headers=headers,
                params=query,
                timeout=timeout if timeout is not None else self.timeout,
            )
            return self._decode(response)

        return (policy or self.policy).call(
            send, idempotent=method in _IDEMPOTENT, what=f"{method} {url}"
        )

    def _send(self, method: str, url: str, **options: Any) -> httpx.Response:
        """One try of a request: to the server in use, else, if it cannot be reached,
        to the next of ``api_urls``, which is then kept for the calls that follow.

        A request that did not connect never reached its server, so the next server
        gets it at once. One that connected and then failed (the server died while
        answering) may have been applied: the next server is kept for the next try,
        which the call's policy makes only if repeating it is harmless.
        """
        for _ in self.api_urls:
            used = self._server[0]
            try:
                return self._http.request(method, url, **options)
            except httpx.TransportError as exc:
                self._next_server(used)
                if len(self.api_urls) == 1 or not isinstance(exc, _NOT_CONNECTED):
                    raise self._unreachable(exc) from exc
                last = exc
        raise self._unreachable(last) from last

    def _next_server(self, failed: int) -> None:
        """Use the server after the ``failed`` one (unless another thread moved on)."""
        if len(self.api_urls) == 1 or self._server[0] != failed:
            return
        index = (failed + 1) % len(self.api_urls)
        # One list shared with the clients ``using`` made: they all move on together.
        self._server[0] = index
        self._http.base_url = self.api_urls[index] + "/"

    def _unreachable(self, exc: httpx.TransportError) -> ClientError:
        where = self.api_url if len(self.api_urls) == 1 else f"any of {self.api_url}"
        return ClientError(
            f"Cannot reach the weir server at {where} ({exc}); is it running "
            "(`weir server start`) and is WEIR_API_URL right?"
        )

    @staticmethod
    def _decode(response: httpx.Response) -> Any:
        if response.status_code < 400:
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                kind = response.headers.get("content-type", "no content type")
                raise ClientError(
                    f"{response.request.method} {response.request.url} answered "
                    f"{response.status_code} with {kind.split(';')[0]}, not JSON: this is not "
                    f"weir's API.{_url_hint(response)}",
                    status_code=response.status_code,
                ) from None
        message, detail = _error_message(response), _error_detail(response)
        if response.status_code in (404, 405):
            hint = _url_hint(response)
            if hint:
                message, detail = f"{message.rstrip('.')}.{hint}", f"{detail.rstrip('.')}.{hint}"
        if response.status_code == 404:
            raise ObjectNotFound(message, status_code=404, detail=detail)
        if response.status_code == 409:
            if _error_field(response) == "attempt":
                raise SupersededError(message, status_code=409, detail=detail)
            raise ConflictError(message, status_code=409, detail=detail)
        raise ClientError(message, status_code=response.status_code, detail=detail)

    def _get(self, model: type[M], path: str, **params: Any) -> M:
        return model.model_validate(self.request("GET", path, params=params))

    def _list(self, model: type[M], path: str, **params: Any) -> list[M]:
        return TypeAdapter(list[model]).validate_python(  # type: ignore[valid-type]
            self.request("GET", path, params=params)
        )

    def _post(self, model: type[M], path: str, body: Any = None, **kw: Any) -> M:
        return model.model_validate(self.request("POST", path, json=body, **kw))

    # -- health and projects -------------------------------------------------------

    def health(self) -> responses.Health:
        return self._get(responses.Health, "health")

    def create_project(self, name: str, description: str | None = None) -> responses.Project:
        body = actions.ProjectCreate(name=name, description=description)
        return self._post(responses.Project, "projects", body.model_dump(mode="json"))

    def list_projects(self, limit: int = 100, offset: int = 0) -> list[responses.Project]:
        return self._list(responses.Project, "projects", limit=limit, offset=offset)

    # -- flows ---------------------------------------------------------------------

    def register_flow(
        self,
        serialized_flow: dict[str, Any],
        *,
        project: str = "default",
        labels: Iterable[str] = (),
        storage: dict[str, Any] | None = None,
        executor: dict[str, Any] | None = None,
        run_config: dict[str, Any] | None = None,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> responses.FlowRegistered:
        """Register a flow; a new version is made only when something changed.

        With ``idempotency_key``: only when the key differs from the latest version's.
        """
        body = actions.FlowCreate(
            serialized_flow=serialized_flow,
            project=project,
            labels=list(labels),
            storage=storage,
            executor=executor,
            run_config=run_config,
            description=description,
            idempotency_key=idempotency_key,
        )
        # Fields left unset are not sent, so a server that predates one still answers.
        data = body.model_dump(mode="json", exclude_none=True)
        return self._post(responses.FlowRegistered, "flows", data)

    def get_flow(self, flow_id: Id) -> responses.Flow:
        return self._get(responses.Flow, f"flows/{flow_id}")

    def get_flow_summary(self, flow_id: Id) -> responses.FlowSummary:
        """The flow version without its serialized graph (name, storage, labels, ...)."""
        return self._get(responses.FlowSummary, f"flows/{flow_id}", full="false")

    def list_flows(
        self,
        *,
        project: str | None = None,
        name: str | None = None,
        include_archived: bool = False,
        limit: int = 100,
        offset: int = 0,
        full: bool = False,
    ) -> list[responses.FlowSummary]:
        """Flow versions without their graphs; ``full=True``: ``responses.Flow`` items."""
        return self._list(
            responses.Flow if full else responses.FlowSummary,
            "flows",
            project=project,
            name=name,
            include_archived=include_archived,
            limit=limit,
            offset=offset,
            full=full or None,
        )

    def update_flow(
        self, flow_id: Id, *, archived: bool | None = None, schedule_active: bool | None = None
    ) -> responses.Flow:
        body = actions.FlowUpdate(archived=archived, schedule_active=schedule_active)
        data = self.request(
            "PATCH", f"flows/{flow_id}", json=body.model_dump(mode="json", exclude_none=True)
        )
        return responses.Flow.model_validate(data)

    def backfill_flow(self, flow_id: Id, start: float, end: float) -> responses.Backfilled:
        """Make the runs the flow's schedule has between ``start`` and ``end`` (seconds)."""
        body = actions.FlowBackfill(start=start, end=end).model_dump(mode="json")
        return self._post(responses.Backfilled, f"flows/{flow_id}/backfill", body)

    def archive_flow(self, flow_id: Id) -> responses.FlowSummary:
        """Archive a flow version: no longer scheduled, its scheduler-made runs that have not
        started deleted; its past runs stay until the server's retention removes them."""
        return responses.FlowSummary.model_validate(self.request("DELETE", f"flows/{flow_id}"))

    def set_schedule_active(self, flow_id: Id, active: bool) -> responses.Flow:
        return self.update_flow(flow_id, schedule_active=active)

    # -- flow runs -----------------------------------------------------------------

    def create_flow_run(
        self,
        flow_id: Id | None = None,
        *,
        flow_name: str | None = None,
        project: str | None = None,
        parameters: dict[str, Any] | None = None,
        labels: Iterable[str] | None = None,
        idempotency_key: str | None = None,
        scheduled_start_time: float | datetime.datetime | None = None,
        name: str | None = None,
        context: dict[str, Any] | None = None,
        parent_flow_run_id: Id | None = None,
        parent_task_run_id: Id | None = None,
        run_name: str | None = None,
    ) -> responses.FlowRun:
        """Create a run of the flow ``flow_id`` (a version) or ``flow_name`` (its latest
        version); ``run_name`` is Prefect 1's spelling of ``name``."""
        if run_name is not None and name is not None and run_name != name:
            raise ValueError("create_flow_run got name= and run_name=; give one of them.")
        name = name if name is not None else run_name
        body = actions.FlowRunCreate(
            flow_id=flow_id,
            flow_name=flow_name,
            project=project,  # type: ignore[arg-type]
            parameters=parameters or {},
            labels=list(labels) if labels is not None else None,
            idempotency_key=idempotency_key,
            scheduled_start_time=scheduled_start_time,
            name=name,
            context=context,
            parent_flow_run_id=parent_flow_run_id,  # type: ignore[arg-type]
            parent_task_run_id=parent_task_run_id,  # type: ignore[arg-type]
        )
        return self._post(
            responses.FlowRun, "flow_runs", body.model_dump(mode="json", exclude_none=True)
        )

    def get_flow_run(self, flow_run_id: Id) -> responses.FlowRun:
        return self._get(responses.FlowRun, f"flow_runs/{flow_run_id}")

    def get_flow_run_with_flow(
        self, flow_run_id: Id
    ) -> tuple[responses.FlowRun, responses.FlowSummary]:
        """The run and its flow version's summary, in one request when the server can."""
        found = self._get(responses.FlowRunWithFlow, f"flow_runs/{flow_run_id}", with_flow="true")
        return found, found.flow or self.get_flow_summary(found.flow_id)  # or an older server

    def list_flow_runs(self, *, full: bool = False, **flt: Any) -> list[responses.FlowRunSummary]:
        """Filter as ``weir.schemas.filters.FlowRunFilter`` says (flow_id, state, start_after…).

        Runs come without parameters and context; ``full=True``: ``responses.FlowRun`` items.
        """
        model = responses.FlowRun if full else responses.FlowRunSummary
        return self._list(model, "flow_runs", full=full or None, **flt)

    def set_flow_run_state(
        self,
        flow_run_id: Id,
        state: Any,
        version: int,
        reported: Mapping[str, list[dict[str, Any]]] | None = None,
    ) -> responses.StateWritten:
        """Move the run to ``state``; ConflictError when ``version`` is stale or the move barred.

        ``reported``: items of the batch endpoints by kind (``task_runs``, ``logs``,
        ``trace``), stored before the state is written.
        """
        body: dict[str, Any] = {"state": _state(state), "version": version}
        body.update((kind, items) for kind, items in (reported or {}).items() if items)
        return self._post(responses.StateWritten, f"flow_runs/{flow_run_id}/state", body)

    def flow_run_states(self, flow_run_id: Id) -> list[responses.StateHistoryItem]:
        return self._list(responses.StateHistoryItem, f"flow_runs/{flow_run_id}/states")

    def heartbeat_flow_run(self, flow_run_id: Id) -> bool:
        """Say the run is alive; True means cancellation was asked for.

        SupersededError (from a client fenced to an older attempt): another attempt
        runs the flow run now, and this heartbeat did not count.
        """
        # Tried once (see HEARTBEAT): the next heartbeat is the retry.
        path = f"flow_runs/{flow_run_id}/heartbeat"
        return self._post(responses.Heartbeat, path, policy=HEARTBEAT).cancel

    def cancel_flow_run(self, flow_run_id: Id) -> responses.FlowRun:
        return self._post(responses.FlowRun, f"flow_runs/{flow_run_id}/cancel")

    def delete_flow_run(self, flow_run_id: Id) -> None:
        """Delete a finished (or never claimed) run with its task runs, logs and trace.

        A running one raises ConflictError: cancel it first.
        """
        self.request("DELETE", f"flow_runs/{flow_run_id}")

    def resume_flow_run(self, flow_run_id: Id) -> responses.FlowRun:
        """Approve a Paused run's paused tasks and schedule it now (Prefect 1's Resume)."""
        return self._post(responses.FlowRun, f"flow_runs/{flow_run_id}/resume")

    def restart_flow_run(self, flow_run_id: Id) -> responses.FlowRun:
        """Schedule a failed or cancelled run again; tasks that succeeded are not rerun."""
        return self._post(responses.FlowRun, f"flow_runs/{flow_run_id}/restart")

    def wait_for_flow_run(
        self, flow_run_id: Id, *, poll: float = 0.5, timeout: float | None = None
    ) -> responses.FlowRun:
        """Poll until the run has finished and return it."""
        return list(self.watch_flow_run(flow_run_id, poll=poll, timeout=timeout))[-1]

    def watch_flow_run(
        self, flow_run_id: Id, *, poll: float = 0.5, timeout: float | None = None
    ) -> Iterator[responses.FlowRun]:
        """Yield the run each time its state changes, ending once it has finished."""
        deadline = None if timeout is None else time.monotonic() + timeout
        seen = -1
        while True:
            run = self.get_flow_run(flow_run_id)
            if run.version != seen:
                seen = run.version
                yield run
            if run.state.type in FINISHED_TYPES:
                return
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(
                    f"Flow run {run.name} ({run.id}) did not finish in time; "
                    f"it is {run.state.type.value}."
                )
            time.sleep(poll)

    # -- task runs -----------------------------------------------------------------

    def upsert_task_runs(
        self, items: Iterable[actions.TaskRunUpsert | Mapping[str, Any]]
    ) -> list[responses.TaskRunWritten]:
        """Write task-run states in order (created on first sight); one result per item."""
        data = self.request("POST", "task_runs/batch", json=_body(actions.TaskRunUpsert, items))
        return TypeAdapter(list[responses.TaskRunWritten]).validate_python(data)

    def get_task_run(self, task_run_id: Id) -> responses.TaskRun:
        return self._get(responses.TaskRun, f"task_runs/{task_run_id}")

    def list_task_runs(
        self, flow_run_id: Id, limit: int = 1000, offset: int = 0
    ) -> list[responses.TaskRun]:
        return self._list(
            responses.TaskRun, f"flow_runs/{flow_run_id}/task_runs", limit=limit, offset=offset
        )

    def set_task_run_state(self, task_run_id: Id, state: Any, version: int) -> responses.TaskRun:
        body = {"state": _state(state), "version": version}
        return self._post(responses.TaskRun, f"task_runs/{task_run_id}/state", body)

    def task_run_states(self, task_run_id: Id) -> list[responses.StateHistoryItem]:
        return self._list(responses.StateHistoryItem, f"task_runs/{task_run_id}/states")

    # -- logs and trace --------------------------------------------------------------

    def write_logs(self, items: Iterable[actions.LogCreate | Mapping[str, Any]]) -> int:
        return self._post(responses.Count, "logs/batch", _body(actions.LogCreate, items)).count

    def get_logs(
        self,
        flow_run_id: Id,
        *,
        after_id: int = 0,
        task_run_id: Id | None = None,
        min_level: int = 0,
        limit: int = 1000,
    ) -> responses.LogPage:
        return self._get(
            responses.LogPage,
            f"flow_runs/{flow_run_id}/logs",
            after_id=after_id,
            task_run_id=task_run_id,
            min_level=min_level,
            limit=limit,
        )

    def follow_logs(
        self,
        flow_run_id: Id,
        *,
        poll: float = 0.5,
        after_id: int = 0,
        task_run_id: Id | None = None,
    ) -> Iterator[responses.Log]:
        """Yield log lines as they arrive until the run has finished and all are read."""
        while True:
            finished = self.get_flow_run(flow_run_id).state.type in FINISHED_TYPES
            page = self.get_logs(flow_run_id, after_id=after_id, task_run_id=task_run_id)
            yield from page.logs
            after_id = page.next_after_id
            if page.logs:
                continue
            if finished:
                return
            time.sleep(poll)

    def write_trace_events(
        self, items: Iterable[actions.TraceEventCreate | Mapping[str, Any]]
    ) -> int:
        return self._post(
            responses.Count, "trace/batch", _body(actions.TraceEventCreate, items)
        ).count

    def get_trace(self, flow_run_id: Id) -> list[responses.TraceEvent]:
        return self._list(responses.TraceEvent, f"flow_runs/{flow_run_id}/trace")

    # -- agents and work -------------------------------------------------------------

    def register_agent(
        self, name: str, labels: Iterable[str] = (), type: str = "local"
    ) -> responses.Agent:
        body = actions.AgentCreate(name=name, labels=list(labels), type=type)
        return self._post(responses.Agent, "agents", body.model_dump(mode="json"))

    def agent_heartbeat(self, agent_id: Id, runs: Iterable[tuple[Id, int]] = ()) -> responses.Agent:
        """The agent is alive, and so are the processes of ``runs`` (id, attempt)."""
        live = [{"id": str(run_id), "attempt": attempt} for run_id, attempt in runs]
        body = {"runs": live} if live else None
        return self._post(responses.Agent, f"agents/{agent_id}/heartbeat", body)

    def agent_stopped(self, agent_id: Id) -> responses.Agent:
        """Tell the server the agent stopped on purpose (the UI then shows it stopped)."""
        return self._post(responses.Agent, f"agents/{agent_id}/stopped")

    def list_agents(self, limit: int = 100, offset: int = 0) -> list[responses.Agent]:
        return self._list(responses.Agent, "agents", limit=limit, offset=offset)

    def claim(
        self,
        labels: Iterable[str] = (),
        *,
        agent_id: Id | None = None,
        limit: int = 10,
        wait: float = 0.0,
        trace: Iterable[actions.TraceEventCreate | Mapping[str, Any]] = (),
    ) -> list[responses.FlowRun]:
        """Take due runs the labels allow (now Submitted), waiting up to ``wait`` seconds.

        ``trace``: the agent's trace events, stored first (no request of their own).
        """
        body = actions.Claim(
            labels=list(labels),
            agent_id=agent_id,  # type: ignore[arg-type]
            limit=limit,
            wait=wait,
        ).model_dump(mode="json", exclude={"trace"})
        data = self.request(
            "POST", "work/claim", json=_with_trace(body, trace), timeout=wait + self.timeout
        )
        return TypeAdapter(list[responses.FlowRun]).validate_python(data)

    def read_claimed_runs(
        self,
        flow_run_ids: Iterable[Id],
        *,
        trace: Iterable[actions.TraceEventCreate | Mapping[str, Any]] = (),
    ) -> list[responses.FlowRun]:
        """The runs of these ids that exist, in one request (``trace``: events to store
        first, e.g. their processes' exits)."""
        body = _with_trace({"flow_run_ids": [str(r) for r in flow_run_ids]}, trace)
        return TypeAdapter(list[responses.FlowRun]).validate_python(
            self.request("POST", "work/runs", json=body)
        )

    # -- API keys ------------------------------------------------------------------

    def create_api_key(
        self, name: str, role: actions.Role | str = actions.Role.AGENT
    ) -> responses.ApiKeyCreated:
        body = actions.ApiKeyCreate(name=name, role=actions.Role(role))
        return self._post(responses.ApiKeyCreated, "api_keys", body.model_dump(mode="json"))

    # -- secrets -------------------------------------------------------------------

    def set_secret(self, name: str, value: Any) -> responses.SecretInfo:
        """Set (or replace) the secret ``name``; admin keys only."""
        body = actions.SecretSet(value=value).model_dump(mode="json")
        return responses.SecretInfo.model_validate(
            self.request("PUT", f"secrets/{_quote(name)}", json=body)
        )

    def list_secrets(self) -> list[responses.SecretInfo]:
        """The secrets' names and times; values are never listed."""
        return self._list(responses.SecretInfo, "secrets")

    def get_secret(self, name: str) -> Any:
        """The value of the secret ``name`` (agent and admin keys); ObjectNotFound if unset."""
        return self._get(responses.SecretValue, f"secrets/{_quote(name)}").value

    def delete_secret(self, name: str) -> responses.SecretInfo:
        return responses.SecretInfo.model_validate(
            self.request("DELETE", f"secrets/{_quote(name)}")
        )

    def list_api_keys(self) -> list[responses.ApiKey]:
        return self._list(responses.ApiKey, "api_keys")

    def revoke_api_key(self, key_id_or_prefix: str) -> responses.ApiKey:
        return responses.ApiKey.model_validate(
            self.request("DELETE", f"api_keys/{key_id_or_prefix}")
        )

    # -- concurrency limits ----------------------------------------------------------

    def set_concurrency_limit(self, tag: str, limit: int) -> responses.ConcurrencyLimit:
        """At most ``limit`` task runs tagged ``tag`` run at once (0 holds them all back)."""
        body = actions.ConcurrencyLimitSet(limit=limit).model_dump(mode="json")
        data = self.request("PUT", f"concurrency_limits/{_path(tag)}", json=body)
        return responses.ConcurrencyLimit.model_validate(data)

    def get_concurrency_limit(self, tag: str) -> responses.ConcurrencyLimit:
        return self._get(responses.ConcurrencyLimit, f"concurrency_limits/{_path(tag)}")

    def list_concurrency_limits(self) -> list[responses.ConcurrencyLimit]:
        return self._list(responses.ConcurrencyLimit, "concurrency_limits")

    def delete_concurrency_limit(self, tag: str) -> responses.ConcurrencyLimit:
        data = self.request("DELETE", f"concurrency_limits/{_path(tag)}")
        return responses.ConcurrencyLimit.model_validate(data)

    def acquire_concurrency_slots(
        self, tags: Iterable[str], task_run_key: str, flow_run_id: Id
    ) -> responses.SlotsGranted:
        """One slot of each limited tag for the task run, all or none; safe to repeat."""
        body = actions.SlotAcquire(
            tags=list(tags),
            task_run_key=task_run_key,
            flow_run_id=flow_run_id,  # type: ignore[arg-type]
        )
        return self._post(
            responses.SlotsGranted, "concurrency_limits/acquire", body.model_dump(mode="json")
        )

    def release_concurrency_slots(self, task_run_key: str) -> int:
        """Give back the task run's slots; how many it held."""
        body = actions.SlotRelease(task_run_key=task_run_key).model_dump(mode="json")
        return self._post(responses.Count, "concurrency_limits/release", body).count


def _params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Query parameters without the unset ones, ids and enums as text."""
    if params is None:
        return None
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set):
            out[key] = [str(getattr(v, "value", v)) for v in value]
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(getattr(value, "value", value))
    return out


def _path(segment: str) -> str:
    """A value as one URL path segment (a tag may hold any character)."""
    return quote(segment, safe="")


def _quote(segment: str) -> str:
    """One URL path segment, whatever characters it holds."""
    from urllib.parse import quote

    return quote(segment, safe="")
