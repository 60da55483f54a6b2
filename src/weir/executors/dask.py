"""The Dask executor: tasks run on a Dask cluster, existing or temporary.

This is the only weir module that imports dask, and only when the executor starts.

``submit`` hands the call to the cluster with ``client.submit(..., pure=False)``
and returns a plain :class:`concurrent.futures.Future`, so the FlowRunner sees
the same interface as with every other executor. How results come back: Dask
tells us a task is done on its callback thread; we only queue the event there.
One *delivery thread* per executor drains that queue, fetches the finished
results in one ``client.gather`` per batch (one round trip for many tasks when
they finish together), and sets the futures; so done-callbacks run on the
delivery thread, where calling ``submit`` again is allowed.

Timeouts are soft on Dask: a Dask worker cannot interrupt a running task, so
``hard_timeouts`` is False and ``submit`` accepts ``timeout`` only to keep the
interface; the TaskRunner's own (soft) timeout runs inside the callable, on the
worker, and marks the task ``TimedOut`` on time while the worker thread is left
to finish.

Logs: records a task emits on a Dask worker stay in that worker's process. The
FlowRunner's callable returns the task's log records with its result and the
flow's logger re-emits them, so this executor forwards no logging itself.

Task tags ``dask-resource:NAME=AMOUNT`` become Dask worker resources through
:func:`resources_from_tags`; the task then runs only on workers started with
that resource (``dask worker --resources "GPU=1"``).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, InvalidStateError
from typing import Any

from weir.exceptions import ConfigurationError, ExecutorError
from weir.executors.base import Call, Executor

__all__ = ["DaskExecutor", "resources_from_tags"]

logger = logging.getLogger(__name__)

RESOURCE_TAG_PREFIX = "dask-resource:"


def resources_from_tags(tags: Iterable[str]) -> dict[str, float]:
    """Dask resources from task tags: ``{"dask-resource:GPU=1"}`` → ``{"GPU": 1.0}``."""
    resources: dict[str, float] = {}
    for tag in tags:
        if not tag.startswith(RESOURCE_TAG_PREFIX):
            continue
        name, sep, amount = tag[len(RESOURCE_TAG_PREFIX) :].partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError("no NAME=AMOUNT")
            resources[name.strip()] = float(amount)
        except ValueError as exc:
            raise ExecutorError(
                f"The task tag {tag!r} is not a Dask resource request: write it as "
                "'dask-resource:NAME=AMOUNT', e.g. 'dask-resource:GPU=1'."
            ) from exc
    return resources


def _call(fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    # Runs on the worker. Wrapping keeps the task's own keyword arguments apart from
    # client.submit's (key, workers, priority, …), which would otherwise swallow them.
    return fn(*args, **kwargs)


def _callable_name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__


def _import_object(path: str) -> Any:
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigurationError(
            f"DaskExecutor could not import cluster_class {path!r}: {exc}. Give a class or "
            "an import path such as 'distributed.LocalCluster'."
        ) from exc


class DaskExecutor(Executor):
    """Runs tasks on a Dask cluster.

    Args:
        address: a running scheduler's address (``tcp://host:8786``); when None, a
            temporary cluster is started by ``start()`` and closed after it.
        cluster_class: the temporary cluster's class, or its import path
            (default ``distributed.LocalCluster``).
        cluster_kwargs: keyword arguments for ``cluster_class``.
        adapt_kwargs: when given, ``cluster.adapt(**adapt_kwargs)`` scales the
            temporary cluster with the load.
        client_kwargs: keyword arguments for ``distributed.Client``.
        debug: keep the temporary LocalCluster's logs (they are silenced otherwise).
    """

    hard_timeouts = False
    batches_submits = True

    def __init__(
        self,
        address: str | None = None,
        cluster_class: type | str | None = None,
        cluster_kwargs: dict[str, Any] | None = None,
        adapt_kwargs: dict[str, Any] | None = None,
        client_kwargs: dict[str, Any] | None = None,
        debug: bool = False,
    ) -> None:
        if address is not None and (cluster_class or cluster_kwargs or adapt_kwargs):
            raise ValueError(
                "DaskExecutor was given an address and also cluster_class, cluster_kwargs "
                "or adapt_kwargs: those describe a temporary cluster. Give the address of "
                "a running scheduler, or the temporary cluster's settings, not both."
            )
        self.address = address
        self.cluster_class = cluster_class
        self.cluster_kwargs = dict(cluster_kwargs or {})
        self.adapt_kwargs = dict(adapt_kwargs or {})
        self.client_kwargs = dict(client_kwargs or {})
        self.debug = debug
        self.client: Any = None
        self.cluster: Any = None
        self._delivery: _Delivery | None = None

    def __repr__(self) -> str:
        where = self.address or "a temporary cluster"
        return f"<DaskExecutor: {where}>"

    # Lifecycle ----------------------------------------------------------------

    @contextlib.contextmanager
    def start(self) -> Iterator[None]:
        from distributed import Client

        client_kwargs = {"set_as_default": False, **self.client_kwargs}
        with contextlib.ExitStack() as stack:
            if self.address is not None:
                self.client = stack.enter_context(self._connect(Client, client_kwargs))
            else:
                self.cluster = stack.enter_context(self._make_cluster())
                if self.adapt_kwargs:
                    self.cluster.adapt(**self.adapt_kwargs)
                self.client = stack.enter_context(Client(self.cluster, **client_kwargs))
            logger.debug("Dask executor: connected to %s.", self.client.scheduler.address)
            delivery = self._delivery = _Delivery(self.client)
            try:
                yield
            finally:
                self._delivery = None
                delivery.close()
                self.client = None
                self.cluster = None

    def _connect(self, client_class: type, client_kwargs: dict[str, Any]) -> Any:
        try:
            return client_class(self.address, **client_kwargs)
        except OSError as exc:  # a refused or timed-out connection
            raise ExecutorError(
                f"DaskExecutor could not connect to the Dask scheduler at {self.address!r}: "
                f"{exc}. Check that a scheduler runs there and is reachable, or leave "
                "address unset to start a temporary cluster."
            ) from exc

    def _make_cluster(self) -> Any:
        from distributed import LocalCluster

        cls = self.cluster_class or LocalCluster
        if isinstance(cls, str):
            cls = _import_object(cls)
        kwargs = dict(self.cluster_kwargs)
        if isinstance(cls, type) and issubclass(cls, LocalCluster):
            kwargs.setdefault("silence_logs", logging.WARNING if self.debug else logging.CRITICAL)
        try:
            return cls(**kwargs)
        except (TypeError, RuntimeError) as exc:  # a bad option fails as either
            raise ExecutorError(
                f"DaskExecutor could not start its temporary {_callable_name(cls)}: {exc}. "
                "Check cluster_kwargs against that class's parameters; the cluster's log "
                "(debug=True) tells more."
            ) from exc

    # Submitting ---------------------------------------------------------------

    def task_options(self, task: Any) -> dict[str, Any]:
        options: dict[str, Any] = {"key": task.name}
        resources = resources_from_tags(task.tags)
        if resources:
            options["resources"] = resources
        return options

    def submit(
        self,
        fn: Callable[..., Any],
        /,
        *args: Any,
        timeout: float | None = None,
        resources: dict[str, float] | None = None,
        key: str | None = None,
        **kwargs: Any,
    ) -> Future[Any]:
        """Run ``fn(*args, **kwargs)`` on the cluster.

        ``key`` names the Dask task (made unique with a uuid, so equal names never
        share a result); ``resources`` are the worker resources it needs;
        ``timeout`` is not enforced here (see the module docstring).
        """
        client, delivery = self._started()
        try:
            dask_future = client.submit(
                _call,
                fn,
                args,
                kwargs,
                key=_unique_key(key or _callable_name(fn)),
                resources=resources or None,
                pure=False,
            )
        except TypeError as exc:  # Dask raises TypeError when it cannot serialize the call
            return _failed(
                ExecutorError(
                    f"DaskExecutor could not send {_callable_name(fn)} to the cluster: {exc}. "
                    "A task and its arguments must be picklable with cloudpickle (no open "
                    "files, locks or connections); use ThreadExecutor for those."
                )
            )
        return delivery.track(dask_future)

    def submit_many(  # type: ignore[override]
        self,
        calls: Iterable[Call],
        *,
        resources: dict[str, float] | None = None,
        key: str | None = None,
    ) -> list[Future[Any]]:
        """Submit many ``(fn, args, kwargs)`` calls in one batch; their futures, in order.

        One ``client.map`` sends them all to the scheduler in one message, which is
        much cheaper per call than ``submit`` one by one (see bench/dask_bench.py).
        """
        client, delivery = self._started()
        calls = list(calls)
        if not calls:
            return []
        fns, argss, kwargss = zip(*calls, strict=True)
        keys = [_unique_key(key or _callable_name(fn)) for fn in fns]
        try:
            dask_futures = client.map(
                _call,
                fns,
                [tuple(a) for a in argss],
                [dict(k) for k in kwargss],
                key=keys,
                resources=resources or None,
                pure=False,
            )
        except TypeError:
            # Some call cannot be serialized: submit one by one, so that only the
            # calls at fault fail, each with its own explanation.
            return [self.submit(fn, *a, resources=resources, key=key, **k) for fn, a, k in calls]
        return [delivery.track(f) for f in dask_futures]

    def cancel_queued(self, futures: Iterable[Future[Any]]) -> None:
        """Cancel the calls the scheduler has not given a worker; the others finish."""
        delivery = self._delivery
        if delivery is not None:
            delivery.cancel_queued(futures)

    def _started(self) -> tuple[Any, _Delivery]:
        client, delivery = self.client, self._delivery
        if client is None or delivery is None:
            raise ExecutorError(
                "DaskExecutor.submit was called outside `with executor.start():`; "
                "start the executor first."
            )
        return client, delivery

    def serialize(self) -> dict[str, Any]:
        cls = self.cluster_class
        if isinstance(cls, type):
            cls = f"{cls.__module__}.{cls.__qualname__}"
        return {
            "type": type(self).__name__,
            "address": self.address,
            "cluster_class": cls,
            "cluster_kwargs": self.cluster_kwargs,
            "adapt_kwargs": self.adapt_kwargs,
            "client_kwargs": self.client_kwargs,
            "debug": self.debug,
        }


def _unique_key(name: str) -> str:
    # Dask groups tasks by the part before the last '-': the dashboard shows the name.
    return f"{name}-{uuid.uuid4().hex}"


class _Delivery:
    """Moves finished Dask futures' outcomes into concurrent.futures.Futures."""

    _BATCH = 1000

    def __init__(self, client: Any) -> None:
        self._client = client
        self._queue: queue.SimpleQueue[tuple[Any, Future[Any]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        # Keeps every Dask future alive until delivered: a dropped Dask future makes
        # the scheduler forget (and cancel) its task.
        self._outstanding: dict[int, tuple[Any, Future[Any]]] = {}
        self._thread = threading.Thread(target=self._run, name="weir-dask-delivery", daemon=True)
        self._thread.start()

    def track(self, dask_future: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            self._outstanding[id(future)] = (dask_future, future)
        future.add_done_callback(self._on_cancel)
        # Runs on Dask's callback thread: only enqueue, never block it.
        dask_future.add_done_callback(lambda df: self._queue.put((df, future)))
        return future

    def cancel_queued(self, futures: Iterable[Future[Any]]) -> None:
        # A Dask future says "pending" until it is done, running or not: the scheduler
        # knows which tasks its workers are processing (one request).
        try:
            processing = {k for keys in self._client.processing().values() for k in keys}
        except (OSError, RuntimeError):  # the cluster is going: nothing starts any more
            processing = set()
        for future in futures:
            with self._lock:
                entry = self._outstanding.get(id(future))
            if entry is not None and entry[0].key not in processing:
                future.cancel()

    def _on_cancel(self, future: Future[Any]) -> None:
        with self._lock:
            entry = self._outstanding.pop(id(future), None)
        if entry is not None and future.cancelled():
            with contextlib.suppress(RuntimeError, OSError):  # the client may be closing
                entry[0].cancel()

    def close(self) -> None:
        with self._lock:
            left = list(self._outstanding.values())
            self._outstanding.clear()
        for dask_future, future in left:
            _settle(
                future,
                error=ExecutorError(
                    f"The Dask task {dask_future.key} was still running when the executor "
                    "stopped, so its result is lost."
                ),
            )
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            with contextlib.suppress(queue.Empty):
                while len(batch) < self._BATCH:
                    nxt = self._queue.get_nowait()
                    if nxt is None:
                        self._deliver(batch)
                        return
                    batch.append(nxt)
            self._deliver(batch)

    def _deliver(self, batch: list[tuple[Any, Future[Any]]]) -> None:
        finished = [(df, f) for df, f in batch if df.status == "finished" and not f.done()]
        if finished:
            try:
                values = self._client.gather([df for df, _ in finished])
            except Exception:  # noqa: BLE001 - fetched one by one below, errors kept per task
                values = None
            if values is not None:
                for (_, future), value in zip(finished, values, strict=True):
                    _settle(future, value=value)
        for dask_future, future in batch:
            if not future.done():
                self._deliver_one(dask_future, future)
            with self._lock:
                self._outstanding.pop(id(future), None)

    def _deliver_one(self, dask_future: Any, future: Future[Any]) -> None:
        from distributed import KilledWorker

        if dask_future.status == "cancelled":
            _settle(
                future,
                error=ExecutorError(
                    f"The Dask task {dask_future.key} was cancelled on the cluster before "
                    "it finished."
                ),
            )
            return
        try:
            _settle(future, value=dask_future.result())
        except KilledWorker as exc:
            _settle(
                future,
                error=ExecutorError(
                    f"The Dask task {dask_future.key} was lost: the workers that ran it died "
                    f"({exc}). It may use too much memory, or crash its process."
                ),
            )
        except Exception as exc:  # noqa: BLE001 - the task's own error, handed over whole
            _settle(future, error=exc)


def _failed(error: BaseException) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_exception(error)
    return future


def _settle(future: Future[Any], *, value: Any = None, error: BaseException | None = None) -> None:
    # A future the caller cancelled, or one failed by close(), stays as it is.
    with contextlib.suppress(InvalidStateError):
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)


def __getattr__(name: str) -> Any:
    # Prefect 1's prefect.executors.dask held LocalDaskExecutor too.
    if name == "LocalDaskExecutor":
        from weir.executors.local_dask import LocalDaskExecutor

        return LocalDaskExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
