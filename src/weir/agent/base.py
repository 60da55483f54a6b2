"""The agent: claims due flow runs from the server, starts them, watches them end.

One pass (:meth:`Agent.run_once`) does, in order:

1. **reap** — every process that has ended is looked at once. When its run is
   still active on the server (Submitted, Running, Cancelling) and still this
   agent's, the process died without reporting an end: the run is set
   ``Failed`` with the exit code and the last lines of the process's output
   (``Cancelled`` if it was being cancelled).
2. **heartbeat** — the agent tells the server it is alive (re-registering if
   the server forgot it). Every ``cancel_check_seconds`` it also looks for its
   runs being cancelled (``Cancelling``): a run's process stops by itself at its
   next heartbeat, between tasks; one still there ``cancel_grace`` seconds later
   (a task that does not return) is stopped with everything it started (SIGTERM,
   SIGKILL 5 s later), and reaping then ends the run ``Cancelled``.
3. **claim** — as many due runs as the agent has free slots (``max_runs``),
   by long poll: the server answers as soon as work appears.
4. **launch** — a process per claimed run (:meth:`Agent.launch`, which each
   kind of agent implements), and a ``process_launched`` trace event.

The agent talks to the server only through the HTTP client, and changes a run's
state only with the run's current version (on a conflict it reads the run again
and retries once), so it never overwrites what the run's own process wrote.

Each claim gives the run a new attempt, which the agent hands its process
(``WEIR_FLOW_RUN_ATTEMPT``). A run whose attempt has moved on since this agent
started a process for it (lazarus rescheduled it, and this or another agent
claimed it again) is not that process's any more: when the process ends, the
agent leaves the run alone.

Stopping (:meth:`Agent.stop`, or SIGTERM/SIGINT via :func:`install_signal_handlers`):
the agent claims nothing more, waits up to ``grace_period`` seconds for its
runs to end, then stops their processes and hands the runs back (``Scheduled``,
due now) for another agent to take; finished tasks are not run again there.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Protocol, TypeVar

from weir.client import Client
from weir.client import settings as client_settings
from weir.client.retrying import AGENT_POLL
from weir.exceptions import ClientError, ConfigurationError, ConflictError, ObjectNotFound
from weir.schemas import responses
from weir.state_types import ACTIVE_TYPES, StateType

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: At most this many runs are claimed in one request.
MAX_CLAIM = 10
#: Seconds between SIGTERM and SIGKILL to a cancelled run's process that stays.
CANCEL_KILL_AFTER = 5.0


class RunProcess(Protocol):
    """What an agent needs of a started flow run: a process id, its end, its last words."""

    pid: int

    def poll(self) -> int | None: ...

    def tail(self, wait: float = 2.0) -> list[str]: ...

    def stop(self, timeout: float = 5.0) -> int: ...


@dataclass
class Launched:
    """A flow run this agent started and is watching."""

    run_id: uuid.UUID
    run_name: str
    flow_name: str
    process: RunProcess
    started: float = field(default_factory=time.time)
    #: The run's attempt this process runs (see weir.server.models.attempts).
    attempt: int = 0


def short(run_id: uuid.UUID | str) -> str:
    """The first characters of a run id, as log lines show it."""
    return f"{str(run_id)[:8]}…"


def default_name(kind: str) -> str:
    return f"{kind}-{socket.gethostname().split('.')[0]}-{uuid.uuid4().hex[:4]}"


class Agent(ABC):
    """Polls the server for work and runs it; subclasses say how a run is started."""

    #: The agent's kind, as the server lists it.
    type = "agent"

    def __init__(
        self,
        client: Client | None = None,
        *,
        api_url: str | None = None,
        api_key: str | None = None,
        name: str | None = None,
        labels: Iterable[str] = (),
        max_runs: int | None = None,
        grace_period: float = 30.0,
        claim_wait: float = 2.0,
        heartbeat_seconds: float | None = None,
        process_retries: int = 2,
        cancel_grace: float = 10.0,
        cancel_check_seconds: float = 2.0,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        if max_runs is not None and max_runs < 1:
            raise ConfigurationError(
                f"max_runs must be at least 1 (it is {max_runs}); leave it unset for no limit."
            )
        self.client = client or Client(api_url, api_key)
        # The key its runs get: the one given, else the one the client found (a local
        # server's key, see weir.client.settings).
        self.api_key = client_settings.api_key(api_key) or self.client.api_key
        self.api_url = self.client.api_url
        self.name = name or default_name(self.type)
        self.labels = sorted(set(labels))
        self.max_runs = max_runs
        self.grace_period = grace_period
        self.claim_wait = claim_wait
        #: Seconds between heartbeats: ``WEIR_AGENT_HEARTBEAT_SECONDS``, else 10. They
        #: vouch for the runs whose processes live, so keep them well under lazarus's
        #: timeout (30 s by default).
        self.heartbeat_seconds = (
            heartbeat_seconds
            if heartbeat_seconds is not None
            else _seconds_from_env("WEIR_AGENT_HEARTBEAT_SECONDS", 10.0)
        )
        #: How often a run whose process crashed (killed, out of memory, non-zero exit
        #: without a final state) is scheduled again before it is failed.
        self.process_retries = process_retries
        #: Seconds a cancelled run's process may take to stop by itself before it is stopped.
        self.cancel_grace = cancel_grace
        self.cancel_check_seconds = cancel_check_seconds
        self.agent_id: uuid.UUID | None = None
        self.running: dict[uuid.UUID, Launched] = {}
        #: Runs of this agent seen Cancelling: when first seen, and signals sent so far.
        self._cancelling: dict[uuid.UUID, tuple[float, int]] = {}
        #: Trace events not sent yet (see flush_trace).
        self._traces: list[dict[str, Any]] = []
        #: Whether the server reads many runs in one request (POST /work/runs).
        self._batch_reads = True
        #: Whether the server stores trace events sent with a claim or a read of runs,
        #: which then cost no request of their own (an older server refuses them).
        self._trace_rides = True
        self._last_cancel_check = float("-inf")
        #: Processes whose run this agent claimed again (a new attempt) while they lived.
        self.superseded: list[Launched] = []
        self._echo = echo
        self._stopping = threading.Event()
        self._hurry = threading.Event()
        self._last_heartbeat = 0.0

    # -- what each kind of agent provides -------------------------------------------

    @abstractmethod
    def launch(self, run: responses.FlowRun) -> RunProcess:
        """Start the process that runs ``run`` (``weir execute flow-run ID``)."""

    def prepare(self) -> None:
        """Get ready for the next launch (called every pass before claiming)."""
        return  # nothing to prepare unless a kind of agent says otherwise

    def close(self) -> None:
        """Release what the agent holds besides its runs (called once it has stopped)."""
        return  # nothing held unless a kind of agent says otherwise

    # -- the loop ------------------------------------------------------------------

    def say(self, message: str) -> None:
        """One line of what the agent does, prefixed with its name."""
        line = f"Agent {self.name}: {message}"
        logger.info("%s", line)
        if self._echo is not None:
            self._echo(line)

    def register(self) -> uuid.UUID:
        agent = self.client.register_agent(self.name, self.labels, type=self.type)
        self.agent_id = agent.id
        self._last_heartbeat = time.monotonic()
        labels = ", ".join(self.labels) or "none"
        limit = f"at most {self.max_runs} runs at once" if self.max_runs else "no limit on runs"
        self.say(f"registered with {self.api_url} (labels: {labels}; {limit}).")
        return agent.id

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def free_slots(self) -> int:
        if self.max_runs is None:
            return MAX_CLAIM
        return max(0, min(MAX_CLAIM, self.max_runs - len(self.running)))

    def run_once(self, wait: float = 0.0, *, hold_trace: bool = False) -> list[Launched]:
        """Reap ended processes, heartbeat, then claim and launch up to the free slots.

        The pass's ``process_launched`` events are sent at its end, or with
        ``hold_trace`` kept to ride on the next pass's claim (as ``serve`` does).
        """
        if self.agent_id is None:
            self.register()
        self.reap()
        self.heartbeat()
        self.watch_cancellations()
        slots = self.free_slots()
        if self.stopping or slots == 0:
            self.flush_trace()
            return []
        self.prepare()
        claimed = self._claim(slots, wait)
        launched = []
        try:
            for run in claimed:
                if self.stopping:
                    # A signal came while the claim was waiting: let another agent take it.
                    self.hand_back(
                        run.id, "it was stopping when the claim came back", attempt=run.attempt
                    )
                    continue
                started = self._start(run)
                if started is not None:
                    launched.append(started)
        finally:
            if not hold_trace:
                self.flush_trace()  # the batch's process_launched events, in one request
        return launched

    def _claim(self, slots: int, wait: float) -> list[responses.FlowRun]:
        """Claim up to ``slots`` runs, sending the trace events kept so far with it."""
        return self._with_trace(
            lambda events: self.client.claim(
                self.labels, agent_id=self.agent_id, limit=slots, wait=wait, trace=events
            )
        )

    def _with_trace(self, send: Callable[[list[dict[str, Any]]], T]) -> T:
        """``send(events)``: a request carrying the trace events kept so far, which the
        server stores first. An older server refuses them there; from then on they are
        sent on their own, before the request. Events of a failed request are kept."""
        if not self._trace_rides:
            self.flush_trace()
            return send([])
        events = self._take_trace()
        try:
            return send(events)
        except ClientError as exc:
            self._traces[:0] = events  # kept for the next request
            if not (events and _refused_field(exc, "trace")):
                raise
        self._trace_rides = False
        self.flush_trace()
        return send([])

    def _take_trace(self) -> list[dict[str, Any]]:
        events, self._traces = self._traces, []
        return events

    def serve(self) -> None:
        """Run passes until :meth:`stop`, then wait for (or hand back) the runs in flight."""
        if self.agent_id is None:
            self.register()
        self.say("waiting for flow runs.")
        while not self.stopping:
            try:
                if self.free_slots() == 0:
                    self.reap()
                    self.heartbeat()
                    self.watch_cancellations()
                    self.flush_trace()  # no claim to ride on
                    self._stopping.wait(0.25)
                    continue
                # The pass's launch events go with the next pass's claim, a moment later.
                self.run_once(wait=self.claim_wait_now(), hold_trace=True)
            except ClientError as exc:
                # Each call of the pass had its own tries (API_CALL); this is the next pass.
                pause = AGENT_POLL.wait_initial
                self.say(f"the server did not answer ({exc}); trying again in {pause:g} s.")
                self._stopping.wait(pause)
        self.shutdown()

    def claim_wait_now(self) -> float:
        """How long the next claim may wait for work on the server."""
        # While runs are in flight, come back often enough to notice their end.
        return min(self.claim_wait, 1.0) if self.running else self.claim_wait

    def stop(self) -> None:
        """Claim nothing more; :meth:`serve` then winds down. A second call skips the wait."""
        if self._stopping.is_set():
            self._hurry.set()
            return
        self._stopping.set()

    def heartbeat(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.agent_id is None or (
            not force and now - self._last_heartbeat < self.heartbeat_seconds
        ):
            return
        self._last_heartbeat = now
        # The runs whose processes live: alive for lazarus too, even while a process's
        # own heartbeat thread is starved (a task holding the GIL in a long C call).
        live = [(r.run_id, r.attempt) for r in self.running.values() if _working(r.process)]
        try:
            self.client.agent_heartbeat(self.agent_id, live)
        except ObjectNotFound:
            self.say("the server no longer knows this agent; registering again.")
            self.register()

    def watch_cancellations(self) -> None:
        """Stop the processes of runs being cancelled that did not stop by themselves."""
        now = time.monotonic()
        if not self.running:
            self._cancelling.clear()
            return
        if now - self._last_cancel_check < self.cancel_check_seconds:
            return
        self._last_cancel_check = now
        # One request for all: the runs being cancelled anywhere are few.
        cancelling = self.client.list_flow_runs(state=[StateType.CANCELLING.value], limit=1000)
        ours = {r.id for r in cancelling} & self.running.keys()
        self._cancelling = {k: v for k, v in self._cancelling.items() if k in ours}
        for run_id in ours:
            seen, sent = self._cancelling.setdefault(run_id, (now, 0))
            waited = now - seen
            if sent == 0 and waited >= self.cancel_grace:
                self._kill(self.running[run_id], signal.SIGTERM)
                self._cancelling[run_id] = (seen, 1)
            elif sent == 1 and waited >= self.cancel_grace + CANCEL_KILL_AFTER:
                self._kill(self.running[run_id], signal.SIGKILL)
                self._cancelling[run_id] = (seen, 2)

    def _kill(
        self,
        launched: Launched,
        signum: int,
        why: str = "is being cancelled and its process {pid} is still there",
    ) -> None:
        process = launched.process
        self.say(
            f"run {short(launched.run_id)} ({launched.flow_name}) {why.format(pid=process.pid)}"
            f"; sending it {signal.Signals(signum).name}."
        )
        send = getattr(process, "signal_group", None)
        if send is not None:
            send(signum)  # the process and every process it started
        elif signum == signal.SIGKILL:
            process.stop(timeout=0)

    # -- launching -------------------------------------------------------------------

    def _start(self, run: responses.FlowRun) -> Launched | None:
        # Stamped before the process exists, so the trace never shows it starting first.
        at = time.time()
        try:
            process = self.launch(run)
        except ClientError as exc:
            # The server did not answer what the launch needed: another try may do better.
            logger.warning("Agent %s: could not prepare flow run %s: %s", self.name, run.id, exc)
            self.hand_back(run.id, f"it could not prepare the run ({exc})", attempt=run.attempt)
            return None
        except (OSError, ValueError) as exc:
            logger.exception("Agent %s: could not start flow run %s.", self.name, run.id)
            self._finish_as_failed(
                run.id, f"The agent {self.name} could not start its process: {exc}", run.attempt
            )
            return None
        launched = Launched(
            run.id, run.name, run.flow_name, process, started=at, attempt=run.attempt
        )
        older = self.running.pop(run.id, None)
        if older is not None:
            # Its process still lives (paused or cut off from the server) and a later
            # attempt now runs the flow: it is stopped now, not when the server next
            # refuses one of its writes, which a task in the middle of its work may not
            # make for a long while, doing that work twice meanwhile.
            if older.process.poll() is None:
                why = f"is taken over by attempt {run.attempt}: pid {{pid}} ran {older.attempt}"
                self._kill(older, signal.SIGKILL, why)
            self.superseded.append(older)
        self.running[run.id] = launched
        self.say(f"claimed run {short(run.id)} ({run.flow_name}), pid {process.pid}.")
        # Sent with the pass's other launches in one request (run_once flushes them).
        self._trace(run.id, "process_launched", {"pid": process.pid}, at=at, later=True)
        return launched

    def _trace(
        self,
        run_id: uuid.UUID,
        kind: str,
        data: dict[str, Any],
        *,
        at: float | None = None,
        later: bool = False,
    ) -> None:
        """Record a trace event of the run; ``later``: kept for the next flush_trace()."""
        event = {
            "flow_run_id": run_id,
            "kind": kind,
            "timestamp": time.time() if at is None else at,
            "data": {**data, "agent": self.name, "agent_id": str(self.agent_id)},
        }
        self._traces.append(event)
        if not later:
            self.flush_trace()

    def flush_trace(self) -> None:
        """Send the trace events kept so far, all in one request."""
        events = self._take_trace()
        if not events:
            return
        try:
            self.client.write_trace_events(events)
        except ClientError as exc:
            # The trace is for people; a lost event must not stop the run.
            kinds = ", ".join(sorted({str(e["kind"]) for e in events}))
            logger.warning(
                "Agent %s: %d trace event(s) (%s) lost: %s", self.name, len(events), kinds, exc
            )

    # -- reaping ---------------------------------------------------------------------

    def reap(self) -> list[Launched]:
        """Look at every process that has ended; fail runs left active on the server."""
        self._reap_superseded()
        ended: list[tuple[Launched, int]] = []
        for run_id, launched in list(self.running.items()):
            code = launched.process.poll()
            if code is None:
                continue
            del self.running[run_id]
            ended.append((launched, code))
            pid = launched.process.pid
            self._trace(run_id, "process_exited", {"pid": pid, "code": code}, later=True)
        if not ended:
            return []
        # The exits are stored before any run's end is decided (a crash is counted from
        # these events, _crashes): sent with the read of the runs, or on their own first.
        runs = self._read_runs([launched.run_id for launched, _ in ended])
        for launched, code in ended:
            outcome = self._after_exit(launched, code, runs.get(launched.run_id))
            self.say(
                f"run {short(launched.run_id)} ({launched.flow_name}): pid "
                f"{launched.process.pid} exited with code {code}; {outcome}."
            )
        return [launched for launched, _ in ended]

    def _read_runs(self, run_ids: list[uuid.UUID]) -> dict[uuid.UUID, responses.FlowRun]:
        """The runs, read in one request when the server can (with the trace events kept
        so far, stored first); {} leaves each to be read alone."""
        if not run_ids or not self._batch_reads:
            self.flush_trace()
            return {}
        try:
            runs = self._with_trace(
                lambda events: self.client.read_claimed_runs(run_ids, trace=events)
            )
        except ClientError as exc:
            if isinstance(exc, ObjectNotFound):
                self._batch_reads = False  # an older server: one read per run, as before
            else:
                logger.warning("Agent %s: could not read the runs that ended: %s", self.name, exc)
            self.flush_trace()
            return {}
        return {r.id: r for r in runs}

    def _reap_superseded(self) -> None:
        for launched in list(self.superseded):
            code = launched.process.poll()
            if code is None:
                continue
            self.superseded.remove(launched)
            pid = launched.process.pid
            self._trace(launched.run_id, "process_exited", {"pid": pid, "code": code})
            self.say(
                f"run {short(launched.run_id)}: pid {pid} of its attempt {launched.attempt}, "
                f"which a later attempt took over, exited with code {code}."
            )

    def _after_exit(
        self, launched: Launched, code: int, run: responses.FlowRun | None = None
    ) -> str:
        """What became of the run whose process ended (``run``: as just read, if it was)."""
        if run is not None and not self._is_ours_and_active(run, launched.attempt):
            return f"the run is {run.state.type.value}"  # it ended as it should
        lines = launched.process.tail()
        message = f"Flow run process exited with code {code}{_signal_name(code)}"
        message += ":\n" + "\n".join(lines) if lines else " and printed nothing."
        try:
            found, written = self._end_if_active(
                launched.run_id, message, crashed=code != 0, attempt=launched.attempt
            )
        except ClientError as exc:
            logger.warning("Agent %s: could not check run %s: %s", self.name, launched.run_id, exc)
            return "the server could not be asked how it ended"
        if written:
            return f"the run was not finished, so it is now {found.value}"
        return f"the run is {found.value}"

    def _end_if_active(
        self, run_id: uuid.UUID, message: str, *, crashed: bool = False, attempt: int | None = None
    ) -> tuple[StateType, bool]:
        """End a run left active by its process: Cancelled, Scheduled again, or Failed.

        A crashed process (non-zero exit) gets its run scheduled again, up to
        ``process_retries`` times; the next attempt resumes from the tasks that
        finished (their checkpoints). A run that another attempt than ``attempt`` runs
        now is left alone. Returns the run's state type now, and whether this call
        wrote it.
        """
        for again in range(2):
            run = self.client.get_flow_run(run_id)
            if not self._is_ours_and_active(run, attempt):
                return run.state.type, False
            state: dict[str, Any] = {"type": StateType.FAILED, "message": message}
            if run.state.type is StateType.CANCELLING:
                state["type"] = StateType.CANCELLED
            elif crashed:
                crashes = self._crashes(run_id)
                if crashes <= self.process_retries:
                    state = {
                        "type": StateType.SCHEDULED,
                        "start_time": time.time(),
                        "message": f"{message}\nScheduled again (crash {crashes} of at most "
                        f"{self.process_retries + 1}); finished tasks keep their results.",
                    }
                else:
                    state["message"] = f"{message}\nIt crashed {crashes} times; giving up."
            try:
                self.client.set_flow_run_state(run_id, state, run.version)
            except ConflictError:
                if again:
                    raise
                continue  # the run moved meanwhile (its process's last words): look again
            return state["type"], True
        raise AssertionError("unreachable: the loop returns or raises")

    def _crashes(self, run_id: uuid.UUID) -> int:
        """How many processes of this run have exited with a non-zero code, on any agent."""
        events = self.client.get_trace(run_id)
        return sum(1 for e in events if e.kind == "process_exited" and e.data.get("code"))

    def _is_ours_and_active(self, run: responses.FlowRun, attempt: int | None = None) -> bool:
        """Active, claimed by this agent (or none), and, given ``attempt``, still that one."""
        if attempt is not None and run.attempt != attempt:
            return False
        return run.state.type in ACTIVE_TYPES and run.agent_id in (None, self.agent_id)

    def _finish_as_failed(self, run_id: uuid.UUID, message: str, attempt: int) -> None:
        try:
            self._end_if_active(run_id, message, attempt=attempt)
        except ClientError as exc:
            logger.warning("Agent %s: could not fail run %s: %s", self.name, run_id, exc)

    # -- stopping --------------------------------------------------------------------

    def shutdown(self, grace_period: float | None = None) -> None:
        """Wait up to the grace period for runs in flight, then stop them and hand them back."""
        self._stopping.set()
        grace = self.grace_period if grace_period is None else grace_period
        if self.running:
            self.say(
                f"stopping: waiting up to {grace:.0f} s for {len(self.running)} run(s) to end "
                "(again to stop them now)."
            )
        deadline = time.monotonic() + grace
        while self.running and time.monotonic() < deadline and not self._hurry.is_set():
            self._quietly(self.reap)
            self._quietly(self.heartbeat)
            self._hurry.wait(0.2)
        self._quietly(self.reap)
        for run_id, launched in list(self.running.items()):
            code = launched.process.stop()
            del self.running[run_id]
            self._trace(run_id, "process_exited", {"pid": launched.process.pid, "code": code})
            self.hand_back(
                run_id,
                f"it stopped before the run ended (pid {launched.process.pid})",
                attempt=launched.attempt,
            )
        for launched in self.superseded:
            launched.process.stop()
        self.superseded.clear()
        if self.agent_id is not None:
            agent_id = self.agent_id
            self._quietly(lambda: self.client.agent_stopped(agent_id))
        self.close()
        self.say("stopped.")

    def _quietly(self, step: Callable[[], Any]) -> None:
        try:
            step()
        except ClientError as exc:
            logger.warning("Agent %s: %s", self.name, exc)

    def hand_back(self, run_id: uuid.UUID, why: str, *, attempt: int | None = None) -> None:
        """Put a run this agent holds (in ``attempt``, when given) back to Scheduled (due
        now) for any agent to claim."""
        message = f"Handed back by agent {self.name}: {why}; any agent may claim it."
        try:
            for again in range(2):
                run = self.client.get_flow_run(run_id)
                if not self._is_ours_and_active(run, attempt):
                    return
                cancelling = run.state.type is StateType.CANCELLING
                state = (
                    {
                        "type": StateType.CANCELLED,
                        "message": f"Cancelled by agent {self.name} ({why}).",
                    }
                    if cancelling
                    else {
                        "type": StateType.SCHEDULED,
                        "message": message,
                        "start_time": time.time(),
                    }
                )
                try:
                    self.client.set_flow_run_state(run_id, state, run.version)
                except ConflictError:
                    if again:
                        raise
                    continue
                self._trace(run_id, "handed_back", {"message": message})
                self.say(f"run {short(run_id)}: handed back ({why}).")
                return
        except ClientError as exc:
            logger.warning("Agent %s: could not hand back run %s: %s", self.name, run_id, exc)


def _seconds_from_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ConfigurationError(f"{name} must be a number of seconds above 0, not {raw!r}.")
    return seconds


def _working(process: RunProcess) -> bool:
    """Whether the process is alive and not stopped: one stopped (SIGSTOP, a frozen
    container) is not vouched for, so that lazarus hands its run to another process."""
    if process.poll() is not None:
        return False
    try:
        stat = Path(f"/proc/{process.pid}/stat").read_text()
    except (OSError, ValueError):
        return True  # not Linux, or gone this instant: poll() said it lives
    # The state follows the command's name, which is in parentheses and may hold any.
    fields = stat.rsplit(")", 1)[-1].split()
    return not fields or fields[0] not in ("T", "t")


def _refused_field(exc: ClientError, field: str) -> bool:
    """Whether the server refused a request for a body field (422), e.g. one it does not
    know ("trace: Extra inputs are not permitted")."""
    return exc.status_code == 422 and field in (exc.detail or "")


def _signal_name(code: int) -> str:
    if code >= 0:
        return ""
    try:
        return f" ({signal.Signals(-code).name})"
    except ValueError:
        return ""


def install_signal_handlers(agent: Agent) -> Callable[[], None]:
    """SIGTERM and SIGINT stop the agent (a second one skips the grace period).

    Returns a function that puts the previous handlers back. Call it from the
    main thread (Python delivers signals there only).
    """

    def handle(signum: int, _frame: FrameType | None) -> None:
        agent.say(f"got {signal.Signals(signum).name}.")
        agent.stop()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for s, h in previous.items():
            signal.signal(s, h)

    return restore


__all__ = [
    "ACTIVE_TYPES",
    "Agent",
    "Launched",
    "RunProcess",
    "default_name",
    "install_signal_handlers",
]
