"""A process-pool executor whose timeouts are hard: an overrunning call is killed.

Each worker is one child process that runs one call at a time. Callables, their
arguments, results and exceptions cross the process boundary with cloudpickle, so
lambdas, closures and functions defined in ``__main__`` work.

One supervisor thread in the parent owns the workers. It waits on every worker's
connection and process sentinel at once (``multiprocessing.connection.wait``),
with a timeout set to the nearest deadline of a running call, and so:

- hands queued calls to idle workers, starting workers on demand up to
  ``max_workers``; a call's timeout clock starts when a worker takes it, not while
  it waits in the queue;
- sets each call's future when its worker answers;
- kills (SIGKILL) the worker of a call that runs past its timeout, fails that
  future with :class:`TaskTimeoutError`, and lets a fresh worker take its place;
- notices a worker that died on its own (``os._exit``, a segfault, the OOM killer)
  and fails only the future of the call it was running.

Futures are set, and so their callbacks run, on the supervisor thread. The lock
guards only the queue and the closing flag; the worker table belongs to the
supervisor thread alone.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future, InvalidStateError
from multiprocessing.context import BaseContext
from typing import Any

import cloudpickle

from weir.exceptions import ExecutorError
from weir.executors.base import Executor, TaskTimeoutError

__all__ = ["ProcessExecutor", "RemoteError"]

logger = logging.getLogger(__name__)

_PICKLE_ERRORS = (pickle.PicklingError, TypeError, AttributeError, ValueError, RecursionError)
_UNPICKLE_ERRORS = (
    pickle.UnpicklingError,
    EOFError,
    ImportError,
    AttributeError,
    TypeError,
    ValueError,
    IndexError,
)


#: Workers in a row that may die before they are ready before queued calls fail.
_MAX_START_FAILURES = 3


class RemoteError(ExecutorError):
    """Stands in for an exception raised in a worker that could not be sent back as is."""


class _RemoteTraceback(Exception):
    """Carries the worker's traceback text; set as the ``__cause__`` of a task's exception."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return f"\n\nTraceback in the worker process:\n{self.tb}"


class ProcessExecutor(Executor):
    """Runs each task in a pool of worker processes; timeouts kill the worker.

    Args:
        max_workers: how many worker processes at most (default: the number of CPUs).
        mp_context: a ``multiprocessing`` start method name (``"spawn"``, ``"forkserver"``,
            ``"fork"``) or context; ``"spawn"`` by default, which is safe in a process
            that has threads (the flow runner does).
    """

    hard_timeouts = True

    def __init__(
        self, max_workers: int | None = None, mp_context: str | BaseContext | None = None
    ) -> None:
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"ProcessExecutor needs max_workers >= 1, not {max_workers}.")
        self.max_workers = max_workers
        self.mp_context = mp_context
        self._pool: _Pool | None = None

    @contextlib.contextmanager
    def start(self) -> Iterator[None]:
        context = _context(self.mp_context)
        pool = _Pool(self.max_workers or os.cpu_count() or 1, context)
        self._pool = pool
        try:
            yield
        except BaseException:
            # The flow run is being torn down (an error, Ctrl-C): stop now, do not
            # wait for calls still running.
            self._pool = None
            pool.shutdown(kill=True)
            raise
        self._pool = None
        pool.shutdown(kill=False)

    def task_options(self, task: Any) -> dict[str, Any]:
        return {"key": task.name}

    def submit(
        self,
        fn: Callable[..., Any],
        /,
        *args: Any,
        timeout: float | None = None,
        key: str | None = None,
        **kwargs: Any,
    ) -> Future[Any]:
        """Run ``fn(*args, **kwargs)`` in a worker; kill it after ``timeout`` seconds.

        ``key`` names the call in errors (e.g. the task's name); by default the
        function's name is used.
        """
        pool = self._pool
        if pool is None:
            raise ExecutorError(
                "ProcessExecutor.submit was called outside `with executor.start():`; "
                "start the executor first."
            )
        return pool.submit(fn, args, kwargs, timeout, key)

    def serialize(self) -> dict[str, Any]:
        context = self.mp_context
        if isinstance(context, BaseContext):
            context = context.get_start_method()
        return {"type": type(self).__name__, "max_workers": self.max_workers, "mp_context": context}

    def worker_pids(self) -> list[int]:
        """The process ids of the live workers (for tests and diagnostics)."""
        pool = self._pool
        return pool.worker_pids() if pool is not None else []


def _context(mp_context: str | BaseContext | None) -> BaseContext:
    if isinstance(mp_context, BaseContext):
        return mp_context
    try:
        return multiprocessing.get_context(mp_context or "spawn")
    except ValueError as exc:
        methods = ", ".join(multiprocessing.get_all_start_methods())
        raise ExecutorError(
            f"ProcessExecutor cannot use mp_context {mp_context!r}; this platform offers {methods}."
        ) from exc


def _callable_name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


class _Job:
    __slots__ = ("future", "payload", "timeout", "name", "deadline")

    def __init__(self, future: Future[Any], payload: bytes, timeout: float | None, name: str):
        self.future = future
        self.payload = payload
        self.timeout = timeout
        self.name = name
        self.deadline: float | None = None


class _Worker:
    __slots__ = ("process", "conn", "job", "ready")

    def __init__(self, process: Any, conn: multiprocessing.connection.Connection) -> None:
        self.process = process
        self.conn = conn
        self.job: _Job | None = None
        self.ready = False

    @property
    def pid(self) -> int:
        return int(self.process.pid)


class _Pool:
    def __init__(self, max_workers: int, context: BaseContext) -> None:
        self._max_workers = max_workers
        self._context = context
        self._lock = threading.Lock()
        self._queue: collections.deque[_Job] = collections.deque()
        self._closing = False
        self._kill_on_close = False
        self._workers: list[_Worker] = []
        self._start_failures = 0  # workers in a row that died before they were ready
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._thread = threading.Thread(
            target=self._supervise, name="weir-process-supervisor", daemon=True
        )
        self._thread.start()

    # Called from any thread ---------------------------------------------------

    def submit(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        timeout: float | None,
        key: str | None = None,
    ) -> Future[Any]:
        future: Future[Any] = Future()
        name = key or _callable_name(fn)
        try:
            payload = cloudpickle.dumps((fn, args, kwargs))
        except _PICKLE_ERRORS as exc:
            future.set_exception(
                ExecutorError(
                    f"ProcessExecutor could not send {name} to a worker process: {exc}. A "
                    "task and its arguments must be picklable with cloudpickle (no open "
                    "files, locks or connections); use ThreadExecutor for those."
                )
            )
            return future
        with self._lock:
            if self._closing:
                raise ExecutorError(
                    "ProcessExecutor.submit was called after the executor shut down or "
                    "failed; see the errors of the calls submitted before."
                )
            self._queue.append(_Job(future, payload, timeout, name))
        self._wake()
        return future

    def shutdown(self, *, kill: bool) -> None:
        with self._lock:
            self._closing = True
            self._kill_on_close = kill
            queued = list(self._queue)
            self._queue.clear()
        for job in queued:
            job.future.cancel()
        self._wake()
        self._thread.join()
        self._wake_r.close()
        self._wake_w.close()

    def worker_pids(self) -> list[int]:
        return [w.pid for w in list(self._workers)]

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            self._wake_w.send(b"x")

    # The supervisor thread ----------------------------------------------------

    def _supervise(self) -> None:
        try:
            while self._step():
                pass
        except Exception as exc:
            logger.exception("Process executor: the supervisor thread failed.")
            self._fail_everything(exc)
        finally:
            self._stop_workers()

    def _fail_everything(self, exc: Exception) -> None:
        with self._lock:
            self._closing = True
            jobs = list(self._queue)
            self._queue.clear()
        jobs += [w.job for w in self._workers if w.job is not None]
        for job in jobs:
            if not job.future.done():
                with contextlib.suppress(InvalidStateError):  # settled meanwhile
                    job.future.set_exception(
                        ExecutorError(
                            f"ProcessExecutor failed while {job.name} was queued or running: {exc}."
                        )
                    )

    def _step(self) -> bool:
        """One turn of the loop; False once the pool is closed and idle."""
        with self._lock:
            closing, kill = self._closing, self._kill_on_close
        if closing and kill:
            for worker in [w for w in self._workers if w.job is not None]:
                job = self._kill_worker(worker)
                job.future.set_exception(
                    ExecutorError(
                        f"{job.name} was stopped because the flow run was torn down while it "
                        f"ran; its worker process (pid {worker.pid}) was killed."
                    )
                )
            return False
        self._dispatch()
        running = [w for w in self._workers if w.job is not None]
        if closing and not running:
            return False
        waitables: list[Any] = [self._wake_r]
        for worker in self._workers:
            waitables.append(worker.conn)
            waitables.append(worker.process.sentinel)
        ready = multiprocessing.connection.wait(waitables, self._wait_time(running))
        self._handle(ready)
        self._enforce_deadlines()
        return True

    def _wait_time(self, running: list[_Worker]) -> float | None:
        deadlines = [w.job.deadline for w in running if w.job and w.job.deadline is not None]
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - time.monotonic())

    def _dispatch(self) -> None:
        while True:
            idle = next((w for w in self._workers if w.ready and w.job is None), None)
            with self._lock:
                if not self._queue:
                    return
                if idle is None:
                    starting = sum(1 for w in self._workers if not w.ready)
                    wanted = len(self._queue) > starting
                    if wanted and len(self._workers) < self._max_workers:
                        self._spawn()
                        continue
                    return
                job = self._queue.popleft()
            if not job.future.set_running_or_notify_cancel():
                continue  # cancelled while queued
            self._send(idle, job)

    def _send(self, worker: _Worker, job: _Job) -> None:
        worker.job = job
        if job.timeout is not None:
            job.deadline = time.monotonic() + job.timeout
        payload, job.payload = job.payload, b""  # the worker has it now; free the memory
        try:
            worker.conn.send_bytes(payload)
        except OSError:
            # The worker died between calls; its sentinel will say so, and the call
            # fails with the death's explanation.
            logger.debug(
                "Process executor: worker %s broke before taking %s.", worker.pid, job.name
            )

    def _spawn(self) -> None:
        parent_conn, child_conn = self._context.Pipe(duplex=True)
        process = self._context.Process(  # type: ignore[attr-defined]
            target=_worker_main, args=(child_conn,), name="weir-process-worker"
        )
        process.start()
        child_conn.close()
        self._workers.append(_Worker(process, parent_conn))
        logger.debug("Process executor: started worker %s.", process.pid)

    def _handle(self, ready: list[Any]) -> None:
        if self._wake_r in ready:
            with contextlib.suppress(BlockingIOError, OSError):
                while self._wake_r.recv(4096):
                    pass
        by_conn = {w.conn: w for w in self._workers}
        by_sentinel = {w.process.sentinel: w for w in self._workers}
        # Messages first: a worker may answer and then die; its answer counts.
        for obj in ready:
            worker = by_conn.get(obj)
            if worker is not None and worker in self._workers:
                self._receive(worker)
        for obj in ready:
            worker = by_sentinel.get(obj)
            if worker is not None and worker in self._workers:
                self._on_death(worker)

    def _receive(self, worker: _Worker) -> None:
        try:
            while worker.conn.poll():
                self._on_message(worker, worker.conn.recv_bytes())
        except (EOFError, OSError):
            self._on_death(worker)

    def _on_message(self, worker: _Worker, data: bytes) -> None:
        job, worker.job = worker.job, None
        try:
            message = cloudpickle.loads(data)
        except _UNPICKLE_ERRORS as exc:
            if job is not None:
                job.future.set_exception(
                    ExecutorError(
                        f"The answer of {job.name} from worker process {worker.pid} could "
                        f"not be unpickled here: {exc}. Its classes must be importable in "
                        "the flow's process."
                    )
                )
            return
        kind = message[0]
        if kind == "ready":
            worker.ready = True
            self._start_failures = 0
        elif job is None:
            logger.warning("Process executor: worker %s answered with no call running.", worker.pid)
        elif kind == "ok":
            job.future.set_result(message[1])
        else:
            exc = message[1]
            exc.__cause__ = _RemoteTraceback(message[2])
            job.future.set_exception(exc)

    def _on_death(self, worker: _Worker) -> None:
        self._workers.remove(worker)
        with contextlib.suppress(EOFError, OSError):
            while worker.conn.poll():  # an answer sent just before dying still counts
                self._on_message(worker, worker.conn.recv_bytes())
        worker.process.join(timeout=5)
        worker.conn.close()
        code = worker.process.exitcode
        job, worker.job = worker.job, None
        if job is None:
            if self._closing:
                return
            if not worker.ready:
                self._on_start_failure(code)
                return
            logger.warning(
                "Process executor: idle worker %s exited (%s).", worker.pid, _describe_exit(code)
            )
            return
        job.future.set_exception(
            ExecutorError(
                f"The worker process (pid {worker.pid}) running {job.name} died before it "
                f"finished ({_describe_exit(code)}). The call may have crashed the "
                "interpreter (os._exit, a segfault in an extension) or been killed for memory; "
                "other calls go on in a new worker."
            )
        )

    def _on_start_failure(self, code: int | None) -> None:
        """A worker died before it was ready; after a few in a row, stop trying."""
        self._start_failures += 1
        if self._start_failures < _MAX_START_FAILURES:
            return
        self._start_failures = 0
        with self._lock:
            queued = list(self._queue)
            self._queue.clear()
        error = ExecutorError(
            f"ProcessExecutor's worker processes exited before they were ready "
            f"({_describe_exit(code)}, {_MAX_START_FAILURES} times in a row), so the queued "
            "calls failed; the workers' own error is on stderr. With the 'spawn' and "
            "'forkserver' start methods Python imports your script again in every worker: "
            'put the code that runs the flow under `if __name__ == "__main__":`, or pass '
            "mp_context='fork'."
        )
        for job in queued:
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(error)

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for worker in list(self._workers):
            job = worker.job
            if job is not None and job.deadline is not None and job.deadline <= now:
                self._kill_worker(worker)
                job.future.set_exception(
                    TaskTimeoutError(
                        f"{job.name} ran past its timeout of {job.timeout:g} s, so its worker "
                        f"process (pid {worker.pid}) was killed; a fresh worker takes its place."
                    )
                )

    def _kill_worker(self, worker: _Worker) -> _Job:
        """Kill a busy worker, forget it, and return the call it was running."""
        job, worker.job = worker.job, None
        assert job is not None
        worker.process.kill()
        worker.process.join()
        worker.conn.close()
        self._workers.remove(worker)
        logger.debug("Process executor: killed worker %s running %s.", worker.pid, job.name)
        return job

    def _stop_workers(self) -> None:
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.conn.send_bytes(b"")
        deadline = time.monotonic() + 5
        for worker in self._workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self._workers.clear()


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "exit code unknown"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


# The worker process ---------------------------------------------------------


def _worker_main(conn: multiprocessing.connection.Connection) -> None:
    """Run calls sent over ``conn`` until an empty message or the parent goes away."""
    # Ctrl-C reaches the whole process group; the parent decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn.send_bytes(cloudpickle.dumps(("ready", os.getpid())))
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if not data:
            return
        conn.send_bytes(_run(data))


def _run(data: bytes) -> bytes:
    try:
        fn, args, kwargs = cloudpickle.loads(data)
        value = fn(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
        return _dump_error(exc, traceback.format_exc())
    try:
        return cloudpickle.dumps(("ok", value))
    except _PICKLE_ERRORS as exc:
        error = RemoteError(
            f"{_callable_name(fn)} returned a value of type {type(value).__qualname__!r} "
            f"that cannot be sent back from the worker process: {exc}. Return something "
            "picklable, or use ThreadExecutor."
        )
        return _dump_error(error, "")


def _dump_error(exc: BaseException, tb: str) -> bytes:
    # An exception must survive the trip whole, or be replaced by one that names it.
    try:
        data = cloudpickle.dumps(("err", exc, tb))
        cloudpickle.loads(data)
        return data
    except (*_PICKLE_ERRORS, *_UNPICKLE_ERRORS):
        stand_in = RemoteError(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}")
        return cloudpickle.dumps(("err", stand_in, tb))
