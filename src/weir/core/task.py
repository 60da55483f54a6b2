"""Tasks: the units of work a Flow wires together.

A Task holds a ``run()`` method and its options (retries, timeout, trigger,
caching, results). Everything static about it is resolved once, when it is
created: the signature of ``run`` (which arguments exist, which are required),
the options in seconds, the reserved-name checks. The engine then reads plain
attributes on the hot path.

Calling a task inside ``with Flow(...)`` binds a *copy* of it to that flow with
the given arguments (the functional API); ``Task.map`` does the same with mapped
arguments. ``Flow.add_edge`` and friends are the imperative API to the same graph.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy as _copy
import datetime as _dt
import functools
import inspect
import logging
import typing
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload

from weir import wiring
from weir.core.task_operators import OperatorMethods
from weir.exceptions import FlowTypeError, FlowValidationError, TaskArgsError, TaskCallError

if TYPE_CHECKING:
    from weir.core.flow import Flow

__all__ = ["FunctionTask", "Parameter", "Task", "tags", "task"]

P = ParamSpec("P")
R = TypeVar("R")

#: Keywords that ``Task.__call__`` takes for itself, so ``run`` may not use them.
RESERVED_ARGS = frozenset({"upstream_tasks", "mapped", "task_args", "flow"})


class _NoDefault:
    def __repr__(self) -> str:
        return "<no default>"


NO_DEFAULT: Any = _NoDefault()


def _default(name: str) -> Any:
    # The graph layer may not import the engine: the weir package plugs in the lookup.
    assert wiring.engine_default is not None, "weir/__init__.py sets the engine defaults"
    return wiring.engine_default(name)


def seconds(value: float | _dt.timedelta | None, what: str, task_name: str) -> float | None:
    """Normalise a duration option to seconds, refusing negative or odd values."""
    if value is None:
        return None
    if isinstance(value, _dt.timedelta):
        secs = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        secs = float(value)
    else:
        # A TypeError too, as Prefect 1 raises for a timeout that is not a duration.
        raise FlowTypeError(
            f"Task '{task_name}': {what} must be a number of seconds or a datetime.timedelta, "
            f"not {type(value).__name__}."
        )
    if secs < 0:
        raise FlowValidationError(f"Task '{task_name}': {what} must not be negative ({secs} s).")
    return secs


def tag_set(tags: Iterable[str] | str | None) -> set[str]:
    """Tags as a set; one string is one tag (``set("io")`` would be {"i", "o"})."""
    if isinstance(tags, str):
        return {tags}
    return set(tags or ())


#: The tasks made inside the innermost ``with Flow(...)`` block, which warns at its end
#: about those that never joined it (see ``Flow.__exit__``).
made_in_block: contextvars.ContextVar[list[Task] | None] = contextvars.ContextVar(
    "weir_made_in_block", default=None
)

#: The tags of the enclosing ``with tags(...)`` blocks (build time only, never read by a run).
_active_tags: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "weir_active_tags", default=frozenset()
)


@contextlib.contextmanager
def tags(*names: str) -> Iterator[None]:
    """``with tags("io", "db"):`` adds these tags to every task made, copied or called inside.

    Blocks nest, each adding its tags to the outer ones' (Prefect 1's ``prefect.tags``).
    """
    for name in names:
        if not isinstance(name, str):
            raise TypeError(
                f"tags() takes tag names as separate strings, got {name!r}; "
                "write tags('a', 'b') (or tags(*names) for a list)."
            )
    token = _active_tags.set(_active_tags.get() | frozenset(names))
    try:
        yield
    finally:
        _active_tags.reset(token)


def handler_list(handlers: Any, owner: str) -> list[Callable[..., Any]]:
    """State handlers as a list, refusing one bare function with the fix."""
    if callable(handlers):
        raise FlowTypeError(
            f"{owner}: state_handlers must be a list of functions, got one function; "
            "wrap it: state_handlers=[handler]."
        )
    return list(handlers or ())


class NamedLogger:
    """``obj.logger`` (Prefect 1's, on tasks and flows): the logger set on ``obj``, else
    ``weir.<obj.name>`` (INFO by default)."""

    def __get__(self, obj: Any, owner: type | None = None) -> logging.Logger:
        if obj is None:
            return self  # type: ignore[return-value]  # the class's attribute itself
        mine = obj.__dict__.get("_logger")
        if mine is not None:
            return mine  # type: ignore[no-any-return]
        from weir.utilities.logging import get_logger  # a leaf module; imported when used

        return get_logger(obj.name)

    def __set__(self, obj: Any, value: logging.Logger) -> None:
        obj.__dict__["_logger"] = value


class Signature:
    """What the engine and the binder need to know about ``run``'s arguments."""

    __slots__ = ("sig", "names", "required", "var_keyword")

    def __init__(self, fn: Callable[..., Any], task_name: str) -> None:
        self.sig = inspect.signature(fn)
        names: list[str] = []
        required: list[str] = []
        self.var_keyword: str | None = None
        for p in self.sig.parameters.values():
            if p.kind is p.VAR_POSITIONAL:
                raise FlowValidationError(
                    f"Task '{task_name}': run() takes *{p.name}, which tasks do not support "
                    "(each argument must have a name). Take a list argument instead."
                )
            if p.kind is p.POSITIONAL_ONLY:
                raise FlowTypeError(
                    f"Task '{task_name}': run() takes {p.name!r} as a positional-only argument, "
                    "but weir passes every argument by name. Wrap the function in a `def` "
                    "whose arguments can be named."
                )
            if p.kind is p.VAR_KEYWORD:
                self.var_keyword = p.name
                continue
            if p.name in RESERVED_ARGS:
                raise FlowValidationError(
                    f"Task '{task_name}': run() has an argument named {p.name!r}, which weir "
                    f"reserves for itself ({', '.join(sorted(RESERVED_ARGS))}). Rename it."
                )
            names.append(p.name)
            if p.default is p.empty:
                required.append(p.name)
        self.names = tuple(names)
        self.required = tuple(required)

    def bind(self, task_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Match call arguments to parameter names, as Python would, or explain why not.

        Every required argument must be given in the call, as in Prefect 1 (whose
        ``Task.bind`` raises TypeError there too); ``TaskCallError`` is a TypeError.
        """
        try:
            bound = self.sig.bind(*args, **kwargs)
        except TypeError as exc:
            hint = " Pass it when calling the task." if "missing" in str(exc) else ""
            raise TaskCallError(
                f"Task '{task_name}': {exc}. Its arguments are ({self.describe()}).{hint}"
            ) from None
        arguments = dict(bound.arguments)
        if self.var_keyword is not None:
            arguments.update(arguments.pop(self.var_keyword, {}))
        return arguments

    def describe(self) -> str:
        return ", ".join(str(p) for p in self.sig.parameters.values())

    def infer_nout(self, fn: Callable[..., Any]) -> int | None:
        """How many items a ``Tuple[...]`` return annotation promises (Prefect 1's rule).

        None for no annotation, one that is not a tuple, or a tuple of any length
        (``tuple``, ``Tuple[int, ...]``); 0 for ``Tuple[()]``. An annotation written as
        a string (``from __future__ import annotations``) is read when it can be.
        """
        ret = self.sig.return_annotation
        if isinstance(ret, str):
            if "uple" not in ret:  # not Tuple[...] nor tuple[...]: spare evaluating it
                return None
            try:
                ret = inspect.signature(fn, eval_str=True).return_annotation
            except (NameError, AttributeError, SyntaxError, TypeError):  # unknown name: no guess
                return None
        if ret is typing.Tuple or typing.get_origin(ret) is not tuple:  # noqa: UP006
            return None  # a bare Tuple (or tuple, whose origin is None) has any length
        args = typing.get_args(ret)
        if args in ((), ((),)):  # Tuple[()]: the empty tuple
            return 0
        if len(args) == 2 and args[1] is Ellipsis:
            return None
        return len(args)


class Task(OperatorMethods):
    """A unit of work; subclass it and override ``run``, or use ``@task`` on a function."""

    #: "init" or "cleanup" for a resource manager's bookkeeping tasks, which neither are
    #: terminal nor keep a task from being terminal (see Flow.terminal_tasks).
    resource_role: str | None = None

    def __init__(
        self,
        name: str | None = None,
        slug: str | None = None,
        tags: Iterable[str] | None = None,
        max_retries: int | None = None,
        retry_delay: _dt.timedelta | float | None = None,
        retry_on: type[BaseException] | Iterable[type[BaseException]] | None = None,
        timeout: _dt.timedelta | float | None = None,
        trigger: Callable[..., bool] | None = None,
        skip_on_upstream_skip: bool = True,
        cache_for: _dt.timedelta | None = None,
        cache_validator: Callable[..., bool] | None = None,
        cache_key: str | None = None,
        checkpoint: bool | None = None,
        state_handlers: list[Callable[..., Any]] | None = None,
        on_failure: Callable[..., Any] | None = None,
        log_stdout: bool = False,
        result: Any = None,
        target: str | Callable[..., str] | None = None,
        task_run_name: str | Callable[..., str] | None = None,
        nout: int | None = None,
    ) -> None:
        self.name = name or type(self).__name__
        self.slug = slug
        self.tags: set[str] = tag_set(tags) | _active_tags.get()
        self.max_retries = int(max_retries or 0)
        self.retry_delay = retry_delay
        #: Prefect 1's ``retry_on``: the exception types worth a retry (None: any).
        self.retry_on = retry_on
        self.timeout = timeout
        self._trigger = trigger
        self.skip_on_upstream_skip = skip_on_upstream_skip
        self.cache_for = cache_for
        self._cache_validator = cache_validator
        self.cache_key = cache_key
        self.checkpoint = checkpoint
        self.state_handlers = handler_list(state_handlers, f"Task '{self.name}'")
        self.on_failure = on_failure
        self.log_stdout = log_stdout
        self.result = result
        self.target = target
        self.task_run_name = task_run_name
        self.nout = nout
        #: The flow this copy was bound into by a functional call, if any.
        self._bound_flow: Flow | None = None
        #: The task this one was copied from (calls bind copies), if any.
        self._origin: Task | None = None
        self._check_options()
        self._signature = self._make_signature()
        if self.nout is None:
            # Prefect 1 reads nout from a `-> Tuple[int, int]` annotation.
            self.nout = self._signature.infer_nout(self.run)
        made = made_in_block.get()
        if made is not None:
            made.append(self)

    # --- static resolution -------------------------------------------------
    def _make_signature(self) -> Signature:
        return Signature(self.run, self.name)

    def _check_options(self) -> None:
        if self.max_retries < 0:
            raise FlowValidationError(f"Task '{self.name}': max_retries must be 0 or more.")
        if self.max_retries > 0 and self.retry_delay is None:
            raise FlowValidationError(
                f"Task '{self.name}': max_retries={self.max_retries} needs a retry_delay, "
                "e.g. retry_delay=timedelta(seconds=10)."
            )
        self.retry_delay_s = seconds(self.retry_delay, "retry_delay", self.name)
        self._check_retry_on()
        self.timeout_s = seconds(self.timeout, "timeout", self.name)
        if self.timeout_s == 0:
            raise FlowValidationError(
                f"Task '{self.name}': timeout must be more than 0 seconds (or None for no timeout)."
            )
        self.cache_for_s = seconds(self.cache_for, "cache_for", self.name)
        if self._cache_validator is not None and not callable(self._cache_validator):
            raise FlowValidationError(f"Task '{self.name}': cache_validator must be callable.")
        if self._trigger is not None and not callable(self._trigger):
            raise FlowValidationError(
                f"Task '{self.name}': trigger must be a function such as "
                "weir.triggers.all_successful."
            )
        for h in self.state_handlers:
            if not callable(h):
                raise FlowValidationError(
                    f"Task '{self.name}': every state handler must be callable "
                    "as handler(task, old_state, new_state)."
                )
        if self.nout is not None and (
            not isinstance(self.nout, int) or isinstance(self.nout, bool) or self.nout < 0
        ):
            raise FlowValidationError(f"Task '{self.name}': nout must be an int, 0 or more.")

    def _check_retry_on(self) -> None:
        """``retry_on`` as a set of exception classes (one class alone is one), as in Prefect 1.

        ``retry_on_types`` is the same as a tuple for ``isinstance``; the task runner reads
        it only when a run fails, so a task without retry_on pays nothing for it.
        """
        given = self.retry_on
        if not given:
            self.retry_on, self.retry_on_types = None, None
            return
        one = isinstance(given, (type, str)) or not isinstance(given, Iterable)
        kinds = {given} if one else set(given)
        for kind in kinds:
            if not (isinstance(kind, type) and issubclass(kind, Exception)):
                raise FlowTypeError(
                    f"Task '{self.name}': retry_on takes exception classes such as "
                    f"ConnectionError, got {kind!r}."
                )
        if self.max_retries <= 0:
            raise FlowValidationError(
                f"Task '{self.name}': retry_on needs max_retries (and a retry_delay), "
                "e.g. max_retries=3, retry_delay=timedelta(seconds=10)."
            )
        self.retry_on = kinds
        self.retry_on_types: tuple[type[BaseException], ...] | None = tuple(kinds)

    # --- defaults that live in the engine ------------------------------------
    # As in Prefect 1, a task's trigger and cache validator are never None: one not
    # given reads as the default. They are looked up when read (not at creation), so
    # defining tasks does not load the engine.
    @property
    def trigger(self) -> Callable[..., bool]:
        """When the task may run: ``weir.triggers.all_successful`` unless given."""
        trigger = self._trigger
        return trigger if trigger is not None else _default("all_successful")

    @trigger.setter
    def trigger(self, value: Callable[..., bool] | None) -> None:
        self._trigger = value

    @property
    def cache_validator(self) -> Callable[..., bool]:
        """Whether a cached result may be reused: unless given, ``never_use`` for a task
        without ``cache_for`` and ``duration_only`` for one with it."""
        validator = self._cache_validator
        if validator is not None:
            return validator
        return _default("never_use" if self.cache_for is None else "duration_only")

    @cache_validator.setter
    def cache_validator(self, value: Callable[..., bool] | None) -> None:
        self._cache_validator = value

    # --- what it does -------------------------------------------------------
    def run(self) -> Any:
        """The task's work; subclasses override it.

        The base one does nothing and returns None (Prefect 1's too), so a bare
        ``Task()`` serves as a placeholder or a point to hang dependencies on.
        """
        return None

    def __repr__(self) -> str:
        return f"<Task: {self.name}>"

    #: Prefect 1's ``self.logger``: the logger ``weir.<task name>``, INFO by default.
    #: What it logs while the task runs goes to the run's log.
    logger = NamedLogger()

    # Tasks are graph nodes: identity is equality.
    __hash__ = object.__hash__

    def __getstate__(self) -> dict[str, Any]:
        # A task sent to another process travels alone, not with the flow it was bound in.
        state = self.__dict__.copy()
        state["_bound_flow"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A task pickled before trigger and cache_validator became properties.
        for name in ("trigger", "cache_validator"):
            if name in state:
                state[f"_{name}"] = state.pop(name)
        self.__dict__.update(state)

    # --- copies and binding (functional API) ---------------------------------
    def copy(self, **task_args: Any) -> Task:
        """An unbound copy, with the attributes in ``task_args`` set on it.

        As in Prefect 1: any attribute the task has may be set (a subclass's own too),
        and ``tags`` are added to the task's tags, not put in their place.
        """
        new = _copy.copy(self)
        new._bound_flow = None
        new._origin = self._origin or self
        new.tags = set(self.tags)
        new.state_handlers = list(self.state_handlers)
        if task_args:
            unknown = [k for k in task_args if not hasattr(self, k)]
            if unknown:
                raise TaskArgsError(
                    f"Task '{self.name}': unknown task_args {sorted(unknown)}: the task has no "
                    f"such attribute. Options are {', '.join(_OPTION_NAMES)}."
                )
            for k, v in task_args.items():
                setattr(new, k, new.tags | tag_set(v) if k == "tags" else v)
            new.max_retries = int(new.max_retries or 0)
            new._check_options()
            if "run" in task_args:
                new._signature = new._make_signature()
        new.tags |= _active_tags.get()
        return new

    def __call__(
        self,
        *args: Any,
        mapped: bool = False,
        task_args: dict[str, Any] | None = None,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        **kwargs: Any,
    ) -> Task:
        """Bind a copy of this task to the active flow with these arguments."""
        new = self.copy(**(task_args or {}))
        new.bind(*args, mapped=mapped, upstream_tasks=upstream_tasks, flow=flow, **kwargs)
        return new

    def bind(
        self,
        *args: Any,
        mapped: bool = False,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        **kwargs: Any,
    ) -> Task:
        """Bind *this* task (not a copy) to a flow with these arguments."""
        flow = _resolve_flow(self, flow)
        arguments = self._signature.bind(self.name, args, kwargs)
        flow.set_dependencies(
            self,
            upstream_tasks=upstream_tasks,
            keyword_tasks=arguments,
            mapped=mapped,
            check_unbound=True,
        )
        self._bound_flow = flow
        self.tags |= _active_tags.get()
        return self

    def map(
        self,
        *args: Any,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        task_args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Task:
        """Bind a copy that runs once per item of its mapped arguments."""
        for arg in args:
            _check_mappable(self, arg)
        # A mapped task's result is a list of its children's: no longer one tuple to unpack.
        new = self.copy(**{"nout": None, **(task_args or {})})
        new.bind(*args, mapped=True, upstream_tasks=upstream_tasks, flow=flow, **kwargs)
        return new

    def pipe(self, task: Any, /, **kwargs: Any) -> Any:
        """Prefect 1's ``pipe``: ``t.pipe(other, k=v)`` is ``other(t, k=v)``, which reads
        better in a long chain (``extract().pipe(clean).pipe(load, table="x")``).

        ``task`` may also be a marker class (``t.pipe(unmapped)`` is ``unmapped(t)``).
        """
        if "self" in kwargs:
            raise TaskCallError(
                f"Task '{self.name}': .pipe() takes no argument named 'self'; this task is "
                "passed to the next one as its first argument."
            )
        if isinstance(task, type) and not issubclass(task, Task):
            return task(self, **kwargs)
        if not callable(task):
            raise TaskCallError(
                f"Task '{self.name}': .pipe() takes a task to call with this one's result, "
                f"not {type(task).__name__} ({task!r})."
            )
        return task(self, **kwargs)

    def set_dependencies(
        self,
        flow: Flow | None = None,
        upstream_tasks: Iterable[Any] | None = None,
        downstream_tasks: Iterable[Any] | None = None,
        keyword_tasks: dict[str, Any] | None = None,
        mapped: bool = False,
    ) -> Task:
        """Prefect 1's ``task.set_dependencies``: ``flow.set_dependencies`` for this task.

        The flow is the one given, else the active ``with Flow(...)``, else the one this
        task was bound in.
        """
        _resolve_flow(self, flow).set_dependencies(
            self,
            upstream_tasks=upstream_tasks,
            downstream_tasks=downstream_tasks,
            keyword_tasks=keyword_tasks,
            mapped=mapped,
        )
        return self

    def set_upstream(
        self, task: Any, flow: Flow | None = None, key: str | None = None, mapped: bool = False
    ) -> None:
        """Make ``task`` run before this one (passing its result as ``key`` when given)."""
        flow = _resolve_flow(self, flow)
        if key is None:
            flow.set_dependencies(self, upstream_tasks=[task], mapped=mapped)
        else:
            flow.set_dependencies(self, keyword_tasks={key: task}, mapped=mapped)

    def set_downstream(
        self, task: Task, flow: Flow | None = None, key: str | None = None, mapped: bool = False
    ) -> None:
        """Make this task run before ``task`` (feeding it as ``key`` when given)."""
        flow = _resolve_flow(self, flow)
        if key is None:
            flow.set_dependencies(task, upstream_tasks=[self], mapped=mapped)
        else:
            flow.set_dependencies(task, keyword_tasks={key: self}, mapped=mapped)

    # --- results of results -------------------------------------------------
    def __getitem__(self, key: Any) -> Task:
        """A task that returns ``result[key]`` of this task."""
        from weir.core.builtins import GetItem

        flow = _resolve_flow(self, None)
        return GetItem(name=f"{self.name}[{key!r}]").bind(task_result=self, key=key, flow=flow)

    def __iter__(self) -> Iterator[Task]:
        if self.nout is None:
            raise TypeError(
                f"Task '{self.name}' is not iterable. To unpack its result, create it with "
                f"nout=N (e.g. @task(nout=2)), or index it: {self.name}[0]."
            )
        return (self[i] for i in range(self.nout))

    # --- Python truthiness would silently pass a task where a bool was meant ---
    def __bool__(self) -> bool:
        return True


_OPTION_NAMES = (
    "name", "slug", "tags", "max_retries", "retry_delay", "retry_on", "timeout", "trigger",
    "skip_on_upstream_skip", "cache_for", "cache_validator", "cache_key", "checkpoint",
    "state_handlers", "on_failure", "log_stdout", "result", "target", "task_run_name", "nout",
)  # fmt: skip


def _check_mappable(t: Task, arg: Any) -> None:
    """Refuse at once a positional constant to map over that cannot be indexed (an int,
    a set, a generator): Prefect 1 raises TypeError there, and mapped children take
    their items by index. A keyword one fails the run instead, as in Prefect 1.
    """
    from weir.core.mapping import flatten, mapped, unmapped

    if hasattr(arg, "__getitem__") or isinstance(arg, (unmapped, mapped, flatten)):
        return
    raise FlowTypeError(
        f"Task '{t.name}': cannot map over {arg!r} ({type(arg).__name__}), which cannot be "
        "indexed. Map over a list or tuple (or a task returning one), or wrap the value "
        "in unmapped(...) to pass it whole to every child."
    )


def _resolve_flow(t: Task, flow: Flow | None) -> Flow:
    from weir.core.flow import current_flow

    # Not `a or b`: an empty Flow has len() 0 and so is falsy.
    found = flow
    if found is None:
        found = current_flow()
    if found is None:
        found = t._bound_flow
    if found is None:
        raise FlowValidationError(
            f"Task '{t.name}' was used outside a flow. Call it inside "
            "`with Flow('name') as flow:`, or pass flow=... explicitly."
        )
    return found


class FunctionTask(Task):
    """A Task whose ``run`` is a plain function (what ``@task`` makes)."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None, **task_kwargs: Any) -> None:
        if not callable(fn):
            raise TypeError(f"@task needs a function, got {type(fn).__name__}.")
        # The function itself is ``run``: the engine calls it with no extra layer.
        self.run = fn  # type: ignore[method-assign]
        self.is_async = inspect.iscoroutinefunction(fn)
        super().__init__(name=name or getattr(fn, "__name__", None), **task_kwargs)
        functools.update_wrapper(self, fn)  # keeps __doc__, __wrapped__ for signatures

    def __repr__(self) -> str:
        return f"<Task: {self.name}>"


class TypedFunctionTask(FunctionTask, Generic[P, R]):
    """A FunctionTask that remembers its function's parameter types for type checkers."""


@overload
def task(fn: Callable[P, R], /) -> TypedFunctionTask[P, R]: ...
@overload
def task(
    fn: None = None, /, **task_kwargs: Any
) -> Callable[[Callable[P, R]], TypedFunctionTask[P, R]]: ...
def task(fn: Callable[..., Any] | None = None, /, **task_kwargs: Any) -> Any:
    """Make a Task from a function: ``@task`` or ``@task(max_retries=3, retry_delay=...)``."""
    if fn is None:
        return lambda f: TypedFunctionTask(f, **task_kwargs)
    return TypedFunctionTask(fn, **task_kwargs)


class Parameter(Task):
    """A flow input: its value comes from ``flow.run(parameters=...)`` or the server."""

    def __init__(
        self,
        name: str,
        default: Any = NO_DEFAULT,
        required: bool | None = None,
        tags: Iterable[str] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise FlowValidationError("A Parameter needs a non-empty string name.")
        self.default = None if default is NO_DEFAULT else default
        self.required = (default is NO_DEFAULT) if required is None else bool(required)
        super().__init__(name=name, slug=name, tags=tags)

    def run(self) -> Any:
        from weir.context import context

        params = context.get("parameters") or {}
        if self.name in params:
            return params[self.name]
        if self.required:
            raise KeyError(f"Parameter '{self.name}' is required but was not given.")
        return self.default

    def __repr__(self) -> str:
        return f"<Parameter: {self.name}>"

    def copy(self, name: str, **task_args: Any) -> Parameter:  # type: ignore[override]
        """A copy under a new name (which is also its slug), as Prefect 1's ``Parameter.copy``.

        A flow has one Parameter per name, so a copy always takes a new one.
        """
        new = super().copy(name=name, slug=name, **task_args)
        assert isinstance(new, Parameter)
        return new

    def __call__(self, *args: Any, flow: Flow | None = None, **kwargs: Any) -> Parameter:  # type: ignore[override]
        """Add this Parameter to the flow (the active one, or ``flow``) and return it.

        Prefect 1 allows ``Parameter("x")()``; it is the same as using the Parameter.
        """
        if args or kwargs:
            raise TaskCallError(
                f"Parameter '{self.name}' takes no arguments: pass the Parameter object "
                f"itself to the tasks that need it, e.g. my_task({self.name}_param)."
            )
        return _resolve_flow(self, flow).add_task(self)  # type: ignore[return-value]
