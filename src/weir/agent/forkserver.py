"""The fork server: one warm process that forks a child per flow run.

Starting Python and importing weir takes most of a second of CPU; a flow run of
one task takes a few milliseconds. So the local agent (``start_method="fork"``,
the default on Linux) starts ``python -m weir.agent.forkserver`` once. It
imports what every run needs (client, engine, execution layer, storage) and
makes the API client, then waits. For each claimed run the agent sends it one
message on a Unix socket: ``{"flow_run_id": ..., "env": {...}}`` with the write
end of a fresh pipe attached (``SCM_RIGHTS``). The server forks; the child
becomes exactly ``weir execute flow-run ID``: a session of its own, the pipe as
its stdout and stderr (read by the agent, as for a spawned process), no input,
the run's variables in its environment, and the same entry point of the
execution layer, ``weir.execution.flow_run.main``. Each run is still a process
of its own: a crash (``os._exit``, a segfault, the OOM killer) takes down that
run only, and the agent reports it as it reports a spawned process that died.

The server answers ``{"forked": PID}`` for each order and ``{"exited": PID,
"code": CODE}`` when a child ends (negative: killed by that signal, as
``Popen.returncode`` says), since only a process's parent can learn its exit code.

Fork safety. A fork copies only the thread that forks, and every open socket.
So the server never starts a thread (and refuses to serve if an import started
one: a lock held by a thread that does not exist in the child would hang it),
and never opens a connection: the API client it makes has never sent a request,
so its pool holds no socket a child could share with another. It does not load
any flow either: each child loads its flow from storage, so a script changed on
disk is what the next run runs (a warm parent holding flow modules would serve
stale code). What it does import beyond weir are the libraries the agent was
told to preload (``weir agent start --preload pandas``): imported once here, in
every run from then on without its import's cost. A library's import that
starts threads is refused (the server exits, the agent says why and spawns
each run), and a library upgraded on disk is picked up when the agent starts
again, as weir itself is.

The server never outlives its agent: it exits when the agent's end of the socket
closes (when the agent stops or dies) or when its parent is no longer the agent
that started it. Children it forked go on (they are sessions of their own), as
runs started by a spawned process do after the agent is killed.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from weir.agent import preload
from weir.agent.process import TAIL_LINES, FlowRunProcess, RunProcess

logger = logging.getLogger(__name__)

#: The environment variable naming the fork server's end of the socket (a descriptor).
SOCKET_ENV = "WEIR_FORKSERVER_FD"
#: How often a waiting fork server checks that its agent is still there.
PARENT_CHECK_SECONDS = 0.5
#: Seconds the agent waits for the fork server to answer an order.
ANSWER_TIMEOUT = 30.0
#: Largest message either side sends (an order carries a run's id and a few variables).
MAX_MESSAGE = 65536


class ForkServerGone(OSError):
    """The fork server has exited (or does not answer); a run needs another way to start."""


# -- the agent's side ------------------------------------------------------------------


class ForkServer:
    """The agent's handle on its fork server: start it, send orders, learn exit codes."""

    def __init__(
        self, env: Mapping[str, str], cwd: str | None = None, libraries: Sequence[str] = ()
    ) -> None:
        """Start the server with ``env`` in ``cwd``, ``libraries`` preloaded (see ``preload``)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._socket = ours
        own = {
            SOCKET_ENV: str(theirs.fileno()),
            "WEIR_AGENT_PID": str(os.getpid()),
            **preload.env(libraries),
        }
        try:
            self.process = FlowRunProcess(
                [sys.executable, "-m", "weir.agent.forkserver"],
                {**env, **own},
                cwd=cwd,
                pass_fds=(theirs.fileno(),),
            )
        finally:
            theirs.close()
        self.pid = self.process.pid
        #: Children alive, by pid (an exit report sets their code).
        self._children: dict[int, ForkedProcess] = {}
        #: Exit codes reported before the order's answer was read (a child that ends at once).
        self._early: dict[int, int] = {}
        #: How many runs it forked (a server that dies before its first is not restarted).
        self.forked = 0

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(
        self, flow_run_id: str, env: Mapping[str, str], on_line: Callable[[str], None] | None
    ) -> ForkedProcess:
        """Have the server fork the process of ``flow_run_id``; raises ForkServerGone."""
        order = json.dumps({"flow_run_id": flow_run_id, "env": dict(env)}).encode()
        read_end, write_end = os.pipe()
        try:
            try:
                socket.send_fds(self._socket, [order], [write_end])
            except OSError as exc:
                raise ForkServerGone(f"the fork server does not take orders: {exc}") from exc
        finally:
            # The child holds the only write end now: its end of output is the pipe's end.
            os.close(write_end)
        try:
            pid = self._answer()
        except BaseException:
            os.close(read_end)
            raise
        child = ForkedProcess(self, pid, read_end, on_line)
        self.forked += 1
        code = self._early.pop(pid, None)
        if code is None:
            self._children[pid] = child
        else:
            child.code = code
        return child

    def _answer(self) -> int:
        """The pid of the child the last order made (exit reports read meanwhile are kept)."""
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._socket], [], [], max(0.0, min(remaining, 0.5)))
            if not ready:
                if not self.alive() or remaining <= 0:
                    raise ForkServerGone("the fork server did not answer the order")
                continue
            try:
                message = self._socket.recv(MAX_MESSAGE)
            except OSError as exc:  # e.g. reset: it exited with the order unread
                raise ForkServerGone(f"the fork server is gone: {exc}") from exc
            if not message:
                raise ForkServerGone("the fork server closed its socket")
            data = json.loads(message)
            if "forked" in data:
                return int(data["forked"])
            if "error" in data:
                raise ForkServerGone(f"the fork server could not fork: {data['error']}")
            self._exited(data)

    def pump(self) -> None:
        """Read every exit report waiting on the socket (never blocks)."""
        while True:
            try:
                message = self._socket.recv(MAX_MESSAGE, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # closed: the children left are looked after one by one
            if not message:
                return
            self._exited(json.loads(message))

    def _exited(self, data: dict[str, int]) -> None:
        pid, code = int(data["exited"]), int(data["code"])
        child = self._children.pop(pid, None)
        if child is None:
            self._early[pid] = code
        else:
            child.code = code

    def close(self, timeout: float = 5.0) -> None:
        """Let the server go: its socket closes and it exits (its children go on)."""
        self._socket.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.stop(timeout=1)


class ForkedProcess(RunProcess):
    """A flow run's process forked by the fork server, as the agent sees it.

    It is not the agent's child, so its exit code comes from the fork server;
    its output comes on the pipe the agent made for it, as a spawned one's does.
    """

    def __init__(
        self,
        server: ForkServer,
        pid: int,
        output: int,
        on_line: Callable[[str], None] | None,
        tail_lines: int = TAIL_LINES,
    ) -> None:
        self.server = server
        self.pid = pid
        self.args = ["fork", str(pid)]
        #: The exit code the fork server reported, once it did.
        self.code: int | None = None
        self.on_line = on_line
        self._start_reading(os.fdopen(output, "r", errors="replace"), tail_lines)

    def poll(self) -> int | None:
        """The exit code once the process has ended, else None."""
        if self.code is None:
            self.server.pump()
        if self.code is None and not self.server.alive():
            self.server.pump()  # its last reports, written before it went
            if self.code is None and not _exists(self.pid):
                # Reaped by whoever adopted it: its code is lost with the server.
                self._tail.append("(the fork server ended before this process; exit code unknown)")
                self.code = 1
        return self.code

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            time.sleep(0.05)  # its report comes on the socket; pump() reads it
        return code

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to the process and everything it started (its session)."""
        if self.poll() is not None:
            return  # reaped: its pid may be another process's now
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            pass  # already gone
        except PermissionError:
            pass  # its group is gone and the id reused by another user's process


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- the fork server's side ------------------------------------------------------------


def _agent_pid() -> int:
    given = os.environ.pop("WEIR_AGENT_PID", "")
    return int(given) if given.isdigit() else os.getppid()


def serve(control: socket.socket, agent: int) -> int:
    """Fork a child per order until the agent goes; 0 then."""
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    # A child's end wakes the select below at once (through the wakeup descriptor).
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    try:
        while os.getppid() == agent:
            ready, _, _ = select.select([control, wake_read], [], [], PARENT_CHECK_SECONDS)
            if wake_read in ready:
                os.read(wake_read, 4096)
            _report_exits(control)
            if control in ready and not _take_order(control, (wake_read, wake_write)):
                return 0
        return 0  # the agent died (this process was handed to another parent)
    finally:
        signal.set_wakeup_fd(-1)


def _report_exits(control: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # no children
        if pid == 0:
            return
        report = {"exited": pid, "code": os.waitstatus_to_exitcode(status)}
        try:
            control.send(json.dumps(report).encode())
        except OSError:
            return  # the agent is gone; nobody to tell


def _take_order(control: socket.socket, own: tuple[int, int]) -> bool:
    """Fork the child of one order; False when the agent closed its end."""
    try:
        message, fds, _, _ = socket.recv_fds(control, MAX_MESSAGE, 1)
    except OSError:
        return False
    if not message:
        return False
    if len(fds) != 1:
        for fd in fds:
            os.close(fd)
        control.send(json.dumps({"error": "an order came without its output pipe"}).encode())
        return True
    order = json.loads(message)
    # Nothing buffered here may be written twice (by this process and by the child).
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError as exc:
        # Out of processes or memory for now: this run is spawned instead; the server stays.
        os.close(fds[0])
        control.send(json.dumps({"error": f"fork failed: {exc}"}).encode())
        return True
    if pid == 0:
        _child(order, fds[0], control, own)  # never returns
    os.close(fds[0])
    control.send(json.dumps({"forked": pid}).encode())
    return True


def _child(order: dict, output: int, control: socket.socket, own: tuple[int, int]) -> None:
    """Become ``weir execute flow-run ID`` and exit with its code."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        control.close()
        for fd in own:
            os.close(fd)
        # A session of its own, as a spawned run has: the agent stops it and all it started.
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(devnull)
        os.close(output)
        os.environ.update({str(k): str(v) for k, v in (order.get("env") or {}).items()})
        run_id = str(order["flow_run_id"])
        sys.argv = ["weir", "execute", "flow-run", run_id]
        from weir.execution import flow_run

        code = flow_run.main(run_id)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - the process's last words, then its exit
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        # What interpreter shutdown would do for `weir execute`: wait for the run's
        # non-daemon threads, run exit handlers, flush; then leave without unwinding
        # into the fork server's loop.
        try:
            for thread in threading.enumerate():
                if thread is not threading.main_thread() and not thread.daemon:
                    thread.join()
            atexit._run_exitfuncs()
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def main() -> int:
    fd = os.environ.pop(SOCKET_ENV, "")
    if not fd.isdigit():
        print(f"{SOCKET_ENV} is not set: the fork server is started by the agent.", file=sys.stderr)
        return 2
    control = socket.socket(fileno=int(fd))
    agent = _agent_pid()
    # Everything a run needs before its first step, done once (see flow_run.prepare):
    # the imports, the API client (made, never used here: no socket to share), the
    # storage and result classes a run loads its flow with.
    import weir.storage
    import weir.storage.scripts  # noqa: F401
    from weir.execution import flow_run

    code = _preload(preload.names())
    if code:
        return code
    flow_run.prepare()  # after the preloads: its heap freeze keeps them out of every GC
    threads = _threads()
    if threads:
        print(
            f"The fork server cannot fork safely: its imports started threads {threads}.",
            file=sys.stderr,
        )
        return 3
    return serve(control, agent)


def _preload(modules: list[str]) -> int:
    """Import the libraries the agent was told to preload; 0, or this process's exit code
    when one cannot be (said on stderr, which the agent logs before it spawns each run)."""
    for name, error in preload.import_each(modules):
        if error is not None:
            print(
                f"The fork server could not preload {name}: {error!r}. Check the name given "
                "to --preload, and that the agent's Python can import it.",
                file=sys.stderr,
            )
            return 4
        threads = _threads()
        if threads:
            print(
                f"The fork server cannot preload {name}: importing it started threads "
                f"{threads}, whose locks a forked run would inherit without the threads. "
                "Leave it out of --preload: each run then imports it itself.",
                file=sys.stderr,
            )
            return 3
    return 0


def _threads() -> list[str]:
    """The names of this process's threads besides the main one."""
    return [t.name for t in threading.enumerate() if t is not threading.main_thread()]


if __name__ == "__main__":
    sys.exit(main())
