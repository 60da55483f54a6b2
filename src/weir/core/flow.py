"""Flows: a DAG of tasks, built with the functional or the imperative API.

Data model (kept up to date on every change, never rebuilt per query):

- ``_tasks``: every task, in the order it was added (a dict used as an ordered set).
- ``_edges``: every Edge, in the order it was added.
- ``_up[t]`` / ``_down[t]``: the edges into and out of ``t``.
- ``constants[t]``: the non-task arguments bound to ``t``, by argument name.
- ``slugs[t]``: a stable identifier per task: ``name-N`` for the N-th task of that
  name in add order, so the same script always yields the same slugs.

Mistakes are refused as they are made, with a message naming the task and the
fix: cycles (with their path), unknown or doubly bound arguments, tasks bound in
another flow, duplicate Parameters, and uncalled tasks passed as upstream tasks.
A task called without a required argument is refused by the call; one added with
the imperative API, when the ``with Flow(...)`` block ends and by ``validate()``
before every run. The error types are Prefect 1's where it raises one (see
``weir.exceptions``: a ``TaskCallError`` is a TypeError, a FlowValidationError a
ValueError).
"""

from __future__ import annotations

import contextlib
import contextvars
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

# Flow.run, Flow.register and Flow.visualize call what the weir package plugs in there.
from weir import wiring
from weir.core.builtins import Constant, as_task, collection_task, holds_task
from weir.core.edge import Edge
from weir.core.graph import find_path, toposort
from weir.core.mapping import flatten, map_scope, mapped, unmapped
from weir.core.task import NamedLogger, Parameter, Task, handler_list, made_in_block
from weir.exceptions import FlowTypeError, FlowValidationError, TaskCallError
from weir.wiring import set_default_registrar, set_default_runner, set_default_visualizer

__all__ = [
    "Flow",
    "current_flow",
    "set_default_registrar",
    "set_default_visualizer",
    "set_default_runner",
    "block_members",
    "tasks_added_since",
    "watching_added",
]

_current_flow: contextvars.ContextVar[Flow | None] = contextvars.ContextVar(
    "weir_current_flow", default=None
)
#: True while weir itself runs a flow script to load its flows (registration, a run).
_loading_script: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "weir_loading_script", default=False
)


@contextlib.contextmanager
def loading_script() -> Iterator[None]:
    """While weir runs a flow script to find its flows: ``flow.register()`` in it is skipped.

    Prefect 1 scripts often end with ``flow.register(...)``; run by ``weir register``
    or by a flow run's process, that call must not register again (as in Prefect 1).
    """
    token = _loading_script.set(True)
    try:
        yield
    finally:
        _loading_script.reset(token)


def current_flow() -> Flow | None:
    """The flow of the innermost active ``with Flow(...)`` block, if any."""
    return _current_flow.get()


#: The lists of the blocks watching which tasks join flows (``watching_added``).
_added_watches: contextvars.ContextVar[tuple[list[tuple[Flow, Task]], ...]] = (
    contextvars.ContextVar("weir_added_watches", default=())
)


@contextlib.contextmanager
def watching_added() -> Iterator[list[tuple[Flow, Task]]]:
    """Record every task added to any flow inside the block, with its flow, in add
    order: how a block used with the imperative API (``with case(...)`` and no ``with
    Flow``) learns what ``flow.add_task`` and ``task.bind(flow=...)`` put inside it."""
    added: list[tuple[Flow, Task]] = []
    token = _added_watches.set((*_added_watches.get(), added))
    try:
        yield added
    finally:
        _added_watches.reset(token)


class _DownstreamTasks:
    """A read-only adjacency view (task → downstream tasks) for graph algorithms."""

    __slots__ = ("_down",)

    def __init__(self, down: dict[Task, list[Edge]]) -> None:
        self._down = down

    def get(self, task: Task, default: Iterable[Task] = ()) -> Iterable[Task]:
        edges = self._down.get(task)
        return (e.downstream_task for e in edges) if edges else default


class Flow:
    """A named DAG of tasks; run it with ``flow.run()`` or register it with a server."""

    def __init__(
        self,
        name: str,
        schedule: Any = None,
        executor: Any = None,
        run_config: Any = None,
        storage: Any = None,
        tasks: Iterable[Task] | None = None,
        edges: Iterable[Edge] | None = None,
        reference_tasks: Iterable[Task] | None = None,
        state_handlers: list[Callable[..., Any]] | None = None,
        on_failure: Callable[..., Any] | None = None,
        result: Any = None,
        checkpoint: bool | None = None,
        terminal_state_handler: Callable[..., Any] | None = None,
        validate: bool | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise FlowValidationError("A Flow needs a non-empty string name, e.g. Flow('etl').")
        self.name = name
        self.schedule = schedule
        self.executor = executor
        self.run_config = run_config
        self.storage = storage
        self.result = result
        self.checkpoint = checkpoint
        self.state_handlers = handler_list(state_handlers, f"Flow '{name}'")
        self.on_failure = on_failure
        self.terminal_state_handler = terminal_state_handler
        self._tasks: dict[Task, None] = {}
        self._edges: dict[Edge, None] = {}
        self._up: dict[Task, list[Edge]] = {}
        self._down: dict[Task, list[Edge]] = {}
        self.constants: dict[Task, dict[str, Any]] = {}
        self.slugs: dict[Task, str] = {}
        self._by_slug: dict[str, Task] = {}
        self._name_counts: dict[str, int] = {}
        self._parameters: dict[str, Parameter] = {}
        self._reference_tasks: dict[Task, None] = {}
        #: Bumped on every change, so derived data (sorted order, run plans) can be cached.
        self.version = 0
        self._sorted: tuple[Task, ...] | None = None
        for t in tasks or ():
            self.add_task(t)
        for e in edges or ():
            self.add_edge(
                e.upstream_task, e.downstream_task, e.key, e.mapped, e.flattened, validate=validate
            )
        if reference_tasks:
            self.set_reference_tasks(reference_tasks)

    def __repr__(self) -> str:
        return f"<Flow: {self.name} ({len(self._tasks)} tasks)>"

    def __eq__(self, other: object) -> bool:
        """Prefect 1's equality: same class, name, tasks, edges and reference tasks."""
        if type(self) is not type(other):
            return False
        assert isinstance(other, Flow)
        return (self.name, self.tasks, self.edges, self.reference_tasks()) == (
            other.name,
            other.tasks,
            other.edges,
            other.reference_tasks(),
        )

    # Flows stay hashable by identity (Prefect 1's were not hashable at all): weir keys
    # per-flow data by the flow object (storage.scripts), and a copy is another flow
    # there even when it compares equal.
    __hash__ = object.__hash__

    #: Prefect 1's ``flow.logger``: the logger ``weir.<flow name>``, INFO by default.
    #: What it logs while a task runs goes to that run's log too.
    logger = NamedLogger()

    def __getstate__(self) -> dict[str, Any]:
        # The `with` block's tokens and the engine's cached plan stay in this process.
        state = self.__dict__.copy()
        state.pop("_token", None)
        state.pop("_made_token", None)
        state.pop("_run_plan", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    # --- the functional API's context ---------------------------------------
    def __enter__(self) -> Flow:
        self._token = _current_flow.set(self)
        self._made_token = made_in_block.set([])
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        made = made_in_block.get() or []
        made_in_block.reset(self._made_token)
        _current_flow.reset(self._token)
        if exc_type is None:
            self._check_arguments()
            self._warn_unused(made)

    def _warn_unused(self, made: list[Task]) -> None:
        """Warn, as Prefect 1 does, about tasks made in the block that never joined the
        flow (neither called nor added): ``ShellTask(command=...)`` without ``()``."""
        if not made:
            return
        joined = {t._origin or t for t in self._tasks}
        unused = [t for t in made if t not in joined and t._bound_flow is None]
        if unused:
            names = ", ".join(sorted({repr(t) for t in unused}))
            warnings.warn(
                f"Flow '{self.name}': tasks were created but not added to the flow: "
                f"{names}. A task made inside `with Flow(...)` joins it when it is "
                "called (`task()`, or given to another task) or added "
                "(`flow.add_task(task)`).",
                UserWarning,
                stacklevel=3,
            )

    # --- reading the graph ---------------------------------------------------
    @property
    def tasks(self) -> set[Task]:
        return set(self._tasks)

    @property
    def edges(self) -> set[Edge]:
        return set(self._edges)

    def task_list(self) -> list[Task]:
        """Tasks in the order they were added."""
        return list(self._tasks)

    def edge_list(self) -> list[Edge]:
        """Edges in the order they were added."""
        return list(self._edges)

    # A query for a task not in the flow is a ValueError, as in Prefect 1: an empty
    # answer would hide a task bound in another flow, or a copy taken by mistake.
    def edges_to(self, task: Task) -> set[Edge]:
        return set(self._edges_of(self._up, task))

    def edges_from(self, task: Task) -> set[Edge]:
        return set(self._edges_of(self._down, task))

    def upstream_tasks(self, task: Task) -> set[Task]:
        return {e.upstream_task for e in self._edges_of(self._up, task)}

    def downstream_tasks(self, task: Task) -> set[Task]:
        return {e.downstream_task for e in self._edges_of(self._down, task)}

    def _edges_of(self, index: dict[Task, list[Edge]], task: Task) -> list[Edge]:
        edges = index.get(task)
        if edges is None:
            raise self._not_in_flow(task)
        return edges

    def _not_in_flow(self, task: Any) -> FlowValidationError:
        what = f"task '{task.name}'" if isinstance(task, Task) else repr(task)
        return FlowValidationError(
            f"Flow '{self.name}' has no {what}; ask about one of its tasks "
            "(flow.tasks, flow.get_tasks(name=...))."
        )

    def root_tasks(self) -> set[Task]:
        return {t for t in self._tasks if not self._up.get(t)}

    def terminal_tasks(self) -> set[Task]:
        """Tasks with nothing downstream but a resource manager's cleanup.

        A resource manager's init and cleanup tasks are never terminal, so a flow's
        state comes from the tasks inside its resource blocks, as in Prefect 1.
        """
        return {
            t
            for t in self._tasks
            if t.resource_role is None
            and all(e.downstream_task.resource_role == "cleanup" for e in self._down.get(t, ()))
        }

    def reference_tasks(self) -> set[Task]:
        """The tasks whose states decide the flow's state: by default, the terminal ones."""
        return set(self._reference_tasks) if self._reference_tasks else self.terminal_tasks()

    def set_reference_tasks(self, tasks: Iterable[Task]) -> None:
        tasks = list(tasks)
        for t in tasks:
            if t not in self._tasks:
                raise FlowValidationError(
                    f"Flow '{self.name}': reference task '{t.name}' is not in the flow; "
                    "add it first (flow.add_task) or pick one of the flow's tasks."
                )
        self._reference_tasks = dict.fromkeys(tasks)
        self._changed()

    def parameters(self) -> set[Parameter]:
        return set(self._parameters.values())

    def get_parameter(self, name: str) -> Parameter | None:
        return self._parameters.get(name)

    def get_tasks(
        self,
        name: str | None = None,
        slug: str | None = None,
        tags: Iterable[str] | None = None,
        task_type: type | None = None,
    ) -> list[Task]:
        """Tasks matching every filter given, in add order."""
        wanted_tags = set(tags or ())
        return [
            t
            for t in self._tasks
            if (name is None or t.name == name)
            and (slug is None or self.slugs[t] == slug)
            and wanted_tags <= t.tags
            and (task_type is None or isinstance(t, task_type))
        ]

    def task_by_slug(self, slug: str) -> Task:
        try:
            return self._by_slug[slug]
        except KeyError:
            raise KeyError(f"Flow '{self.name}' has no task with slug {slug!r}.") from None

    def sorted_tasks(self, root_tasks: Iterable[Task] | None = None) -> tuple[Task, ...]:
        """Tasks in a stable topological order (ties in add order)."""
        if self._sorted is None:
            self._sorted = tuple(toposort(list(self._tasks), _DownstreamTasks(self._down)))
        if root_tasks is None:
            return self._sorted
        root_tasks = list(root_tasks)
        for t in root_tasks:
            if t not in self._tasks:
                raise self._not_in_flow(t)
        keep = self._reachable_from(root_tasks)
        return tuple(t for t in self._sorted if t in keep)

    def _reachable_from(self, roots: Iterable[Task]) -> set[Task]:
        seen: set[Task] = set()
        stack = list(roots)
        while stack:
            t = stack.pop()
            if t in seen:
                continue
            seen.add(t)
            stack.extend(e.downstream_task for e in self._down.get(t, ()))
        return seen

    def __iter__(self) -> Iterator[Task]:
        return iter(self.sorted_tasks())

    def __len__(self) -> int:
        return len(self._tasks)

    # --- changing the graph (imperative API) --------------------------------
    def _changed(self) -> None:
        self.version += 1
        self._sorted = None

    def add_task(self, task: Task) -> Task:
        """Add a task (no edges); adding it twice does nothing."""
        if task in self._tasks:
            return task
        if not isinstance(task, Task):
            raise FlowTypeError(
                f"Flow '{self.name}': add_task needs a Task, got {type(task).__name__} "
                f"({task!r}). Wrap functions with @task."
            )
        self._check_not_foreign(task)
        self._take_task(
            task, ". Parameter names must be unique; reuse the existing Parameter object."
        )
        return task

    def _insert_task(self, task: Task) -> None:
        self._assign_slug(task)  # first: a refused slug leaves the flow as it was
        self._tasks[task] = None
        self._up.setdefault(task, [])
        self._down.setdefault(task, [])
        for watch in _added_watches.get():
            watch.append((self, task))
        self._changed()

    def _assign_slug(self, task: Task) -> None:
        if task.slug is not None and isinstance(task, Parameter):
            slug = task.slug
        elif task.slug is not None and task.slug not in self._by_slug:
            slug = task.slug
        elif task.slug is not None and not _called_again(self._by_slug[task.slug], task):
            # Two tasks given one slug by hand: a mistake that renaming would hide (the
            # slug is what the server and its users know the task by). Prefect 1 refuses
            # it too. A task called again is a copy of itself and gets the next name.
            raise FlowValidationError(
                f"Flow '{self.name}': task '{task.name}' has slug {task.slug!r}, which task "
                f"'{self._by_slug[task.slug].name}' already has; slugs are unique in a "
                "flow: give one of them another slug."
            )
        else:
            n = self._name_counts.get(task.name, 0) + 1
            slug = f"{task.name}-{n}"
            while slug in self._by_slug:
                n += 1
                slug = f"{task.name}-{n}"
            self._name_counts[task.name] = n
        if slug in self._by_slug:
            raise FlowValidationError(
                f"Flow '{self.name}': two tasks share the slug {slug!r}; give one another slug."
            )
        self.slugs[task] = slug
        self._by_slug[slug] = task

    def _check_not_foreign(self, task: Task) -> None:
        bound = task._bound_flow
        if bound is not None and bound is not self:
            raise FlowValidationError(
                f"Task '{task.name}' was bound in flow '{bound.name}' and cannot be used in flow "
                f"'{self.name}'. Call the task again inside this flow, or use "
                f"{task.name}.copy() to get an unbound copy."
            )

    def _check_argument_name(self, task: Task, key: str) -> None:
        sig = task._signature
        if key not in sig.names and sig.var_keyword is None:
            raise TaskCallError(
                f"Task '{task.name}' got an unexpected argument {key!r}. "
                f"Its arguments are ({sig.describe()})."
            )
        bound_keys = {e.key for e in self._up.get(task, ())}
        if key in bound_keys or key in self.constants.get(task, {}):
            raise FlowValidationError(
                f"Task '{task.name}' already has a value for argument {key!r}; an argument "
                "can be bound once. Bind a copy (call the task again) for another value."
            )

    def add_edge(
        self,
        upstream_task: Task,
        downstream_task: Task,
        key: str | None = None,
        mapped: bool = False,
        flattened: bool = False,
        validate: bool | None = None,
    ) -> Edge:
        """Make ``downstream_task`` wait for ``upstream_task`` (taking its result as ``key``).

        ``validate=False`` (Prefect 1's keyword) skips the checks of the argument name and
        of cycles here; ``validate()``, which every run calls, still finds a cycle.
        """
        for t in (upstream_task, downstream_task):
            if not isinstance(t, Task):
                raise FlowTypeError(
                    f"Flow '{self.name}': edges join Tasks, got {type(t).__name__} ({t!r})."
                )
            self._check_not_foreign(t)
        if isinstance(downstream_task, Parameter):
            # As in Prefect 1 (a ValueError): a Parameter's value comes from the run.
            raise FlowValidationError(
                f"Flow '{self.name}': Parameter '{downstream_task.name}' cannot have upstream "
                f"tasks (here '{upstream_task.name}'); Parameters are root tasks. Make the "
                "tasks that use the Parameter depend on it instead."
            )
        if validate is not False:
            if key is not None:
                self._check_argument_name(downstream_task, key)
            self._check_no_cycle(upstream_task, downstream_task)
        edge = Edge(upstream_task, downstream_task, key, mapped, flattened)
        if edge in self._edges:
            return edge
        self.add_task(upstream_task)
        self.add_task(downstream_task)
        self._insert_edge(edge)
        return edge

    def _insert_edge(self, edge: Edge) -> None:
        downstream_task, upstream_task = edge.downstream_task, edge.upstream_task
        self._edges[edge] = None
        self._up[downstream_task].append(edge)
        self._down[upstream_task].append(edge)
        self._changed()

    def _check_no_cycle(self, up: Task, down: Task) -> None:
        if up is down:
            raise FlowValidationError(
                f"Flow '{self.name}': task '{up.name}' cannot depend on itself "
                f"(cycle: {up.name} -> {up.name})."
            )
        if not self._down.get(down):
            return  # nothing runs after `down`, so it cannot reach `up`
        path = find_path(_DownstreamTasks(self._down), down, up)
        if path is not None:
            cycle = [up, *path]
            # Tasks often share a name (a task called twice): then only slugs tell them apart.
            ambiguous = len({t.name for t in cycle}) < len(set(cycle))
            names = " -> ".join(self.slugs[t] if ambiguous else t.name for t in cycle)
            raise FlowValidationError(
                f"Flow '{self.name}': making '{down.name}' depend on '{up.name}' would create "
                f"a cycle: {names}. Remove one of these dependencies."
            )

    def set_dependencies(
        self,
        task: Task,
        upstream_tasks: Iterable[Any] | None = None,
        downstream_tasks: Iterable[Any] | None = None,
        keyword_tasks: dict[str, Any] | None = None,
        mapped: bool = False,
        *,
        check_unbound: bool = False,
    ) -> None:
        """Add ``task`` with its upstream, downstream and keyword (data) dependencies.

        Non-task upstream values become Constant tasks (as in Prefect 1). Non-task
        keyword values become constants, or Constant tasks when mapped over; a
        list, tuple, set or dict holding tasks becomes a collection task (``List``…).
        ``check_unbound`` (set by functional calls) refuses tasks that were never called
        in this flow but need arguments: the classic ``upstream_tasks=[my_task]`` slip.
        """
        self.add_task(task)
        for name, given in (
            ("upstream_tasks", upstream_tasks),
            ("downstream_tasks", downstream_tasks),
        ):
            if isinstance(given, (Task, str)):
                shown = f"the task '{given.name}'" if isinstance(given, Task) else repr(given)
                raise FlowTypeError(
                    f"Task '{task.name}': {name} must be a list of tasks, got {shown} on its "
                    f"own. Wrap it in a list: {name}=[...]."
                )
        for up in upstream_tasks or ():
            up, is_mapped, flat = _unwrap(up, mapped)
            if isinstance(up, str):
                # A task's name where the task was meant: Prefect 1 made it a Constant
                # and the order it was written for silently did not hold.
                raise FlowTypeError(
                    f"Task '{task.name}': upstream_tasks holds the string {up!r}; give the "
                    "task itself (the object a call returned), not its name."
                )
            # As in Prefect 1: a value becomes a task (a collection of tasks gathers
            # them, anything else a Constant), which only orders the run.
            up = as_task(up, self)
            if check_unbound:
                self._check_called(up, task, "upstream_tasks")
            self.add_edge(up, task, mapped=is_mapped, flattened=flat)
        for down in downstream_tasks or ():
            if not isinstance(down, Task):
                raise FlowTypeError(
                    f"Task '{task.name}': downstream_tasks must hold tasks, got {down!r}."
                )
            self.add_edge(task, down)
        for key, value in (keyword_tasks or {}).items():
            value, is_mapped, flat = _unwrap(value, mapped)
            if not isinstance(value, Task) and holds_task(value):
                value = collection_task(value, self)
            if isinstance(value, Task):
                if check_unbound:
                    self._check_called(value, task, f"argument {key!r}")
                self.add_edge(value, task, key=key, mapped=is_mapped, flattened=flat)
            elif is_mapped:
                self.add_edge(Constant(value), task, key=key, mapped=True, flattened=flat)
            else:
                self._check_argument_name(task, key)
                self.constants.setdefault(task, {})[key] = value
                self._changed()

    def _check_called(self, candidate: Task, task: Task, where: str) -> None:
        if (
            candidate in self._tasks
            or candidate._bound_flow is not None
            or isinstance(candidate, Parameter)
        ):
            return
        if not candidate._signature.required:
            # Needing no arguments, it could run on its own; but when the flow already
            # has a call of it, the user almost surely meant that call's result.
            called = [t for t in self._tasks if t._origin is candidate]
            if called:
                raise FlowValidationError(
                    f"Task '{task.name}': {where} got task '{candidate.name}' itself, but it "
                    f"was already called in flow '{self.name}' (as {self.slugs[called[0]]}). "
                    f"Pass the result of that call instead (`x = {candidate.name}()`, then "
                    f"use `x`); to run it a second time, call it again."
                )
            return
        needs = ", ".join(candidate._signature.required)
        raise FlowValidationError(
            f"Task '{task.name}': {where} got task '{candidate.name}' itself, which was never "
            f"called in flow '{self.name}' and needs arguments ({needs}). Pass the result of "
            f"calling it instead: `x = {candidate.name}(...)`, then use `x`."
        )

    def chain(self, *tasks: Task, validate: bool | None = None) -> list[Edge]:
        """Make each task depend on the one before it; return the edges."""
        return [
            self.add_edge(a, b, validate=validate) for a, b in zip(tasks, tasks[1:], strict=False)
        ]

    def replace(self, old: Task, new: Task, validate: bool = True) -> None:
        """Put ``new`` in ``old``'s place: its edges, constants and reference role.

        Raises ValueError when ``old`` is not in the flow (Prefect 1's error).
        """
        if old not in self._tasks:
            raise ValueError(
                f"Task '{getattr(old, 'name', old)}' was not found in flow '{self.name}'."
            )
        edges = [e for e in self._edges if old in (e.upstream_task, e.downstream_task)]
        constants = self.constants.pop(old, None)
        was_reference = old in self._reference_tasks
        self._remove_task(old)
        self.add_task(new)
        if constants:
            self.constants.setdefault(new, {}).update(constants)
        for e in edges:
            up = new if e.upstream_task is old else e.upstream_task
            down = new if e.downstream_task is old else e.downstream_task
            self.add_edge(up, down, e.key, e.mapped, e.flattened, validate=False)
        if was_reference:
            self._reference_tasks[new] = None
        self._changed()
        if validate:
            self.validate()

    def _take_task(self, task: Task, duplicate_hint: str) -> None:
        """Add ``task``; a second Parameter of its name is refused, ``duplicate_hint``
        ending the message with what to do instead."""
        if isinstance(task, Parameter):
            other = self._parameters.get(task.name)
            if other is not None:
                raise FlowValidationError(
                    f"Flow '{self.name}' already has a Parameter named '{task.name}'"
                    + duplicate_hint
                )
            self._parameters[task.name] = task
        self._insert_task(task)

    def _remove_task(self, task: Task) -> None:
        """Take a task and its edges out (what ``replace`` needs)."""
        for e in [*self._up.pop(task, ()), *self._down.pop(task, ())]:
            self._edges.pop(e, None)
            other_up = self._up.get(e.downstream_task)
            if other_up is not None and e in other_up:
                other_up.remove(e)
            other_down = self._down.get(e.upstream_task)
            if other_down is not None and e in other_down:
                other_down.remove(e)
        del self._tasks[task]
        self._by_slug.pop(self.slugs.pop(task), None)
        self._reference_tasks.pop(task, None)
        if isinstance(task, Parameter) and self._parameters.get(task.name) is task:
            del self._parameters[task.name]
        self._changed()

    def update(
        self,
        flow: Flow,
        merge_parameters: bool = False,
        validate: bool | None = None,
        merge_reference_tasks: bool = False,
    ) -> None:
        """Add another flow's tasks, edges and constants to this one (Prefect 1's ``update``).

        ``merge_parameters``: a Parameter of this flow with the name of one of ``flow``'s
        is replaced by that one (else two Parameters of one name are an error).
        ``merge_reference_tasks``: ``flow``'s reference tasks become reference tasks here too.
        """
        if merge_parameters:
            validate = True
            theirs = {p.name: p for p in flow.parameters()}
            for p in self.parameters():
                if p.name in theirs and theirs[p.name] is not p:
                    self.replace(p, theirs[p.name], validate=False)
        # The other flow's tasks are bound to it, which add_task refuses (a slip in one
        # flow); merging flows is what update is for, so they are taken in as they are.
        for t in flow.task_list():
            if t not in self._tasks:
                self._take_task(t, "; pass merge_parameters=True to use the other flow's.")
        for e in flow.edge_list():
            if e not in self._edges:
                if validate:
                    self._check_no_cycle(e.upstream_task, e.downstream_task)
                self._insert_edge(e)
        if merge_reference_tasks:
            self.set_reference_tasks([*self.reference_tasks(), *flow.reference_tasks()])
        for t, values in flow.constants.items():
            self.constants.setdefault(t, {}).update(values)
        self._changed()
        if validate:
            self.validate()

    # --- checks ----------------------------------------------------------------
    def _check_arguments(self) -> None:
        """Every task has a value for each required argument of its run()."""
        for t in self._tasks:
            required = t._signature.required
            if not required:
                continue
            given = set(self.constants.get(t, ())) | {e.key for e in self._up[t]}
            missing = [name for name in required if name not in given]
            if missing:
                slug = self.slugs[t]
                raise TaskCallError(
                    f"Flow '{self.name}': task '{t.name}' ({slug}) is missing the required "
                    f"argument{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}. "
                    f"Pass {'them' if len(missing) > 1 else 'it'} when calling the task, or "
                    f"with flow.set_dependencies({t.name}, keyword_tasks={{...}})."
                )

    def validate(self) -> None:
        """Check the whole flow; raise FlowValidationError naming the first problem."""
        for e in self._edges:
            if e.upstream_task not in self._tasks or e.downstream_task not in self._tasks:
                raise FlowValidationError(f"Flow '{self.name}': edge {e!r} joins unknown tasks.")
        for t in self._reference_tasks:
            if t not in self._tasks:
                raise FlowValidationError(
                    f"Flow '{self.name}': reference task '{t.name}' is not in the flow."
                )
        try:
            # add_edge refuses cycles, but add_edge(validate=False) lets one in.
            self.sorted_tasks()
        except ValueError:
            raise FlowValidationError(
                f"Flow '{self.name}' has a cycle (an edge added with validate=False closes "
                "it); remove one of its edges."
            ) from None
        self._check_arguments()

    # --- copies -------------------------------------------------------------
    def copy(self) -> Flow:
        """A new Flow with the same tasks and edges (tasks are shared, not copied)."""
        new = Flow(
            self.name,
            schedule=self.schedule,
            executor=self.executor,
            run_config=self.run_config,
            storage=self.storage,
            state_handlers=self.state_handlers,
            on_failure=self.on_failure,
            result=self.result,
            checkpoint=self.checkpoint,
            terminal_state_handler=self.terminal_state_handler,
        )
        for t in self._tasks:
            new._tasks[t] = None
            new._up[t] = list(self._up[t])
            new._down[t] = list(self._down[t])
        new._edges = dict(self._edges)
        new.constants = {t: dict(c) for t, c in self.constants.items()}
        new.slugs = dict(self.slugs)
        new._by_slug = dict(self._by_slug)
        new._name_counts = dict(self._name_counts)
        new._parameters = dict(self._parameters)
        new._reference_tasks = dict(self._reference_tasks)
        return new

    # --- running, describing, drawing ----------------------------------------
    def run(
        self,
        parameters: dict[str, Any] | None = None,
        executor: Any = None,
        run_on_schedule: bool | None = None,
        runner_cls: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Run the flow here and return its final State (``.result`` maps tasks to states).

        As in Prefect 1, a keyword named after one of the flow's Parameters is that
        Parameter's value (``flow.run(n=3)``); the other keywords go to ``FlowRunner.run``.
        """
        if "return_tasks" in kwargs:
            raise ValueError(
                "flow.run() returns every task's state and takes no return_tasks; for a "
                "subset, run FlowRunner(flow).run(return_tasks=[...])."
            )
        if self._skipped_while_loading("run", _GUARD_IT):
            return None
        named = {p.name for p in self._parameters.values()} & kwargs.keys()
        if named:
            parameters = {**(parameters or {}), **{n: kwargs.pop(n) for n in named}}
        if wiring.runner is None:
            raise RuntimeError("No flow runner is plugged in; see weir/__init__.py.")
        if runner_cls is not None:
            # Prefect 1 makes its passes (retries, resumes) with this class's runners.
            kwargs["runner_cls"] = runner_cls
        return wiring.runner(
            self,
            parameters=parameters,
            executor=executor,
            run_on_schedule=run_on_schedule,
            **kwargs,
        )

    def register(
        self,
        project_name: str | None = None,
        build: bool = True,
        labels: Iterable[str] | None = None,
        set_schedule_active: bool = True,
        idempotency_key: str | None = None,
        no_url: bool = False,
        *,
        project: str | None = None,
        add_default_labels: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Register with the weir server (WEIR_API_URL) and return the flow version's id.

        Prefect 1's arguments: ``project_name`` (or ``project``; ``"default"`` when
        neither), ``labels`` (added to the run config's), ``set_schedule_active``,
        ``idempotency_key`` (the latest version's key: no new version),
        ``add_default_labels`` (this machine's host name as a label). ``no_url`` is
        accepted and changes nothing (weir prints no URL here). Other keywords go to
        ``weir.registration.register_flow`` (client, storage, idempotent…).
        """
        if _current_flow.get() is self:
            raise ValueError(
                f"Flow '{self.name}': register() was called inside its `with Flow(...)` "
                "block; call it after the block, once the flow is built."
            )
        if self._skipped_while_loading("register", "weir registers or runs the script's flows"):
            return None
        if not build:
            raise ValueError(
                f"Flow '{self.name}': register(build=False) is not supported; weir builds "
                "the flow's storage on every registration (an unchanged flow makes no new "
                "version)."
            )
        if kwargs.get("version_group_id") is not None:
            raise ValueError(
                f"Flow '{self.name}': register(version_group_id=...) is not supported; weir "
                "groups a flow's versions by the flow's name within its project: register "
                "it under the same name to make a new version."
            )
        kwargs.pop("version_group_id", None)
        if project_name is not None and project is not None and project_name != project:
            raise ValueError(
                f"Flow '{self.name}': register() got project_name={project_name!r} and "
                f"project={project!r}; give one of them."
            )
        if wiring.registrar is None:
            raise RuntimeError("No registrar is plugged in; see weir/__init__.py.")
        return wiring.registrar(
            self,
            project=project_name or project or "default",
            labels=labels or (),
            idempotency_key=idempotency_key,
            add_default_labels=add_default_labels,
            set_schedule_active=set_schedule_active,
            **kwargs,
        )

    def run_agent(
        self,
        token: str | None = None,
        show_flow_logs: bool = False,
        log_to_cloud: bool | None = None,
        api_key: str | None = None,
    ) -> None:
        """Serve this flow's runs with an agent in this process (Prefect 1's
        ``run_agent``): a local agent with the labels of the flow's registered version,
        until SIGTERM or Ctrl-C. ``token`` and ``log_to_cloud`` were Prefect Cloud's."""
        if self._skipped_while_loading("run_agent", _GUARD_IT):
            return None
        if wiring.agent_runner is None:
            raise RuntimeError("weir.agent is not plugged in; `import weir` first.")
        wiring.agent_runner(self, show_flow_logs=show_flow_logs, api_key=api_key or token)
        return None

    def _skipped_while_loading(self, call: str, why: str) -> bool:
        """Whether ``flow.<call>()`` is skipped, with a warning saying so, because weir
        itself is loading the script (to register it, or for an agent's run). As in
        Prefect 1: such calls at a script's top level are for running it by hand, and
        must not run the flow, register it, or serve for ever while weir loads it."""
        if not _loading_script.get():
            return False
        warnings.warn(
            f"Flow '{self.name}': flow.{call}() in a script weir is loading is skipped ({why}).",
            stacklevel=3,
        )
        return True

    def save(self, fpath: Any = None) -> str:
        """Pickle the flow to a file (Prefect 1's ``flow.save``): ``fpath``, by default
        ``$WEIR_HOME/flows/<name>.weir``. Returns the file's path; ``Flow.load`` reads it."""
        if wiring.flow_files is None:
            raise RuntimeError("weir.storage is not plugged in; `import weir` first.")
        return wiring.flow_files().save(self, fpath)  # type: ignore[no-any-return]

    @classmethod
    def load(cls, fpath: Any) -> Flow:
        """A flow written by ``save``: from the path given, or by the flow's name from
        the default place."""
        if wiring.flow_files is None:
            raise RuntimeError("weir.storage is not plugged in; `import weir` first.")
        return wiring.flow_files().load(fpath)  # type: ignore[no-any-return]

    def serialize(self) -> dict[str, Any]:
        """A JSON-able description of the graph, as the server stores it."""
        from weir.core.serialize import serialize_flow

        return serialize_flow(self)

    def serialized_hash(self) -> str:
        """A hash of ``serialize()`` (sha256, hex): the same for the same flow, as
        Prefect 1's ``flow.register(idempotency_key=flow.serialized_hash())`` expects."""
        import hashlib
        import json

        text = json.dumps(self.serialize(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def visualize(
        self,
        flow_state: Any = None,
        filename: str | None = None,
        format: str | None = None,
        horizontal: bool = False,
    ) -> str:
        """Draw the flow as an HTML page (default) or Mermaid text, states coloured if given.

        Prefect 1's signature; the drawing lives in ``weir.visualization`` (above the core).
        """
        if wiring.visualizer is None:
            raise RuntimeError("weir.visualization is not loaded; `import weir` first.")
        return wiring.visualizer(
            self, flow_state=flow_state, filename=filename, format=format, horizontal=horizontal
        )


def tasks_added_since(flow: Flow, before: set[Task]) -> list[Task]:
    """The tasks added to ``flow`` that are not in ``before``, in add order.

    Parameters and Constants are left out: they stay roots, never inside a ``case``,
    resource or ``apply_map`` block, even when first used there (Prefect 1's rule).
    """
    return block_members(t for t in flow.task_list() if t not in before)


def block_members(tasks: Iterable[Task]) -> list[Task]:
    """The tasks a ``case``, resource or ``apply_map`` block takes in, of those added
    while it ran: Parameters and Constants stay roots, never inside a block, even when
    first used there (Prefect 1's rule)."""
    return [t for t in tasks if not isinstance(t, (Parameter, Constant))]


def _unwrap_marker(
    marker: unmapped | mapped | flatten, default_mapped: bool
) -> tuple[Any, bool, bool]:
    """A marker's value and edge kind; ``mapped`` and ``flatten`` nest (any flatten
    flattens). ``flatten`` alone maps only in a mapped call: in a plain one the task
    is called once with the flattened list, as in Prefect 1."""
    if isinstance(marker, unmapped):
        if isinstance(marker.value, (unmapped, mapped, flatten)):
            raise FlowValidationError(
                f"unmapped() holds {type(marker.value).__name__}(...): an argument passed whole "
                "cannot also be mapped or flattened. Keep one of the two."
            )
        return marker.value, False, False
    value, flat = marker.value, isinstance(marker, flatten)
    is_mapped = default_mapped or isinstance(marker, mapped)
    while isinstance(value, (mapped, flatten)):
        flat = flat or isinstance(value, flatten)
        is_mapped = is_mapped or isinstance(value, mapped)
        value = value.value
    if isinstance(value, unmapped):
        raise FlowValidationError(
            f"{type(marker).__name__}() holds unmapped(...): an argument cannot be both mapped "
            "over and passed whole. Keep one of the two."
        )
    return value, is_mapped, flat


def _unwrap(value: Any, default_mapped: bool) -> tuple[Any, bool, bool]:
    """(value, is_mapped, is_flattened) from the unmapped/mapped/flatten markers.

    Inside ``apply_map`` (a MapScope), a task without a marker is mapped over unless
    it is one of apply_map's unmapped arguments.
    """
    scope = map_scope.get()
    if isinstance(value, (unmapped, mapped, flatten)):
        # Inside apply_map every call is mapped: a flatten there maps too.
        return _unwrap_marker(value, default_mapped or scope is not None)
    if scope is not None and isinstance(value, Task) and value not in scope.unmapped:
        return value, True, value in scope.flattened
    return value, default_mapped, False


#: How a script keeps a call for when it is run by hand.
_GUARD_IT = 'guard it with `if __name__ == "__main__":`'


def _called_again(held: Task, task: Task) -> bool:
    """Whether ``task`` is another call of the task that ``held`` is a call of, with the
    slug that task was made with (a slugged task called twice), not one given anew."""
    origin = held._origin or held
    return (task._origin or task) is origin and task.slug == origin.slug
