"""``resource_manager``: a resource set up before, and cleaned up after, the tasks that use it.

Prefect 1's ``prefect.resource_manager``. Decorate a class whose ``__init__``
takes the resource's settings, whose ``setup()`` returns the resource, and whose
``cleanup(resource)`` releases it; ``with Manager(settings) as resource:`` in a
flow then wraps the tasks made inside (docs/examples/resource_manager.py).

In the flow this makes three tasks: ``Manager`` (builds the manager),
``Manager.setup`` (its result is what ``as`` binds) and ``Manager.cleanup``. The
tasks made inside the block that have no upstream inside it run after setup;
cleanup runs after those that have no downstream inside it, whether they
succeeded or not, and is skipped only when init or setup did not succeed. The
init and cleanup tasks do not decide the flow's state: its reference tasks are
the block's last tasks, as if the resource bookkeeping were not there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from weir.core.flow import Flow, current_flow, tasks_added_since
from weir.core.task import Task
from weir.engine import signals
from weir.engine.state import State

__all__ = ["ResourceManager", "resource_manager"]


class ResourceInitTask(Task):
    """Builds the resource manager: ``resource_class(*args, **kwargs)``."""

    resource_role = "init"

    def __init__(self, resource_class: Callable[..., Any], **kwargs: Any) -> None:
        # The class itself is run(): its __init__ arguments are the task's arguments.
        self.run = resource_class  # type: ignore[method-assign]
        super().__init__(**kwargs)


class ResourceSetupTask(Task):
    """``mgr.setup()``: its result is the resource the block's tasks use."""

    def run(self, mgr: Any) -> Any:
        return mgr.setup()


class ResourceCleanupTask(Task):
    """``mgr.cleanup(resource)``, after the block's tasks, however they ended."""

    resource_role = "cleanup"

    def run(self, mgr: Any, resource: Any = None) -> None:
        mgr.cleanup(resource)


def resource_cleanup_trigger(upstream_states: Mapping[Any, State]) -> bool:
    """Run once everything upstream finished; skip when init or setup did not succeed."""
    for edge, state in upstream_states.items():
        if not state.is_finished():
            raise signals.TRIGGERFAIL(
                "Trigger was 'resource_cleanup_trigger' but some of the upstream tasks "
                "were not finished."
            )
        step = {"mgr": "init", "resource": "setup"}.get(getattr(edge, "key", None))
        if step is None:
            continue  # a task of the block: cleanup runs however it ended
        if state.is_skipped():
            raise signals.SKIP(f"Resource manager {step} was skipped: nothing to clean up.")
        if not state.is_successful():
            raise signals.SKIP(f"Resource manager {step} did not succeed: nothing to clean up.")
    return True


class ResourceContext:
    """The ``with`` block of one resource: wires the tasks made inside between setup and cleanup."""

    def __init__(self, init: Task, setup: Task | None, cleanup: Task, flow: Flow) -> None:
        self.init_task = init
        self.setup_task = setup
        self.cleanup_task = cleanup
        self._flow = flow
        self._before: set[Task] = set()

    def __enter__(self) -> Task | None:
        self._before = set(self._flow.task_list())
        return self.setup_task

    def __exit__(self, *exc: Any) -> None:
        flow = self._flow
        children = tasks_added_since(flow, self._before)
        inside = set(children)
        for child in children:
            upstream = flow.upstream_tasks(child)
            if self.setup_task is not None and not upstream & inside:
                if self.setup_task not in upstream:
                    flow.set_dependencies(child, upstream_tasks=[self.setup_task])
            if not flow.downstream_tasks(child) & inside:
                flow.set_dependencies(self.cleanup_task, upstream_tasks=[child])


class ResourceManager:
    """What ``@resource_manager`` makes of a class: call it in a flow to get a ``with`` block."""

    def __init__(
        self,
        resource_class: Callable[..., Any],
        name: str | None = None,
        init_task_kwargs: dict[str, Any] | None = None,
        setup_task_kwargs: dict[str, Any] | None = None,
        cleanup_task_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if not callable(getattr(resource_class, "cleanup", None)):
            raise TypeError(
                f"resource_manager needs a class with a cleanup(resource) method; "
                f"{getattr(resource_class, '__name__', resource_class)!r} has none."
            )
        self.resource_class = resource_class
        self.name = name or getattr(resource_class, "__name__", "resource")
        self.init_task_kwargs = {"name": self.name, **(init_task_kwargs or {})}
        self.setup_task_kwargs = {
            "name": f"{self.name}.setup",
            "checkpoint": False,
            **(setup_task_kwargs or {}),
        }
        self.cleanup_task_kwargs = {
            "name": f"{self.name}.cleanup",
            "trigger": resource_cleanup_trigger,
            "skip_on_upstream_skip": False,
            "checkpoint": False,
            **(cleanup_task_kwargs or {}),
        }

    def __call__(self, *args: Any, flow: Flow | None = None, **kwargs: Any) -> ResourceContext:
        flow = flow if flow is not None else current_flow()
        if flow is None:
            raise ValueError(
                f"Resource manager '{self.name}' was used outside a flow: call it inside "
                "`with Flow(...)`, or pass flow=."
            )
        init = ResourceInitTask(self.resource_class, **self.init_task_kwargs)(
            *args, flow=flow, **kwargs
        )
        setup: Task | None = None
        cleanup_args: dict[str, Any] = {"mgr": init}
        if callable(getattr(self.resource_class, "setup", None)):
            setup = ResourceSetupTask(**self.setup_task_kwargs)(mgr=init, flow=flow)
            cleanup_args["resource"] = setup
        cleanup = ResourceCleanupTask(**self.cleanup_task_kwargs)(**cleanup_args, flow=flow)
        return ResourceContext(init, setup, cleanup, flow)


def resource_manager(
    resource_class: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    init_task_kwargs: dict[str, Any] | None = None,
    setup_task_kwargs: dict[str, Any] | None = None,
    cleanup_task_kwargs: dict[str, Any] | None = None,
) -> Any:
    """``@resource_manager`` or ``@resource_manager(name=..., cleanup_task_kwargs=...)``."""

    def make(cls: Callable[..., Any]) -> ResourceManager:
        return ResourceManager(
            cls,
            name=name,
            init_task_kwargs=init_task_kwargs,
            setup_task_kwargs=setup_task_kwargs,
            cleanup_task_kwargs=cleanup_task_kwargs,
        )

    return make if resource_class is None else make(resource_class)
