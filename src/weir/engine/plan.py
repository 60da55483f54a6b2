"""The run plan: everything about a flow's graph that a run needs, computed once.

Tasks are numbered in sorted order. For every task ``i``:

- ``up[i]``: its incoming edges as ``(edge, j, pipelined)`` (``j`` the upstream index);
- ``down[j]``: its outgoing edges as ``(edge, i, pipelined)``;
- ``gate[i]``: how many incoming edges must be released before ``i`` may start
  (Kahn's algorithm: a finished upstream releases its edges);
- ``mapped[i]``: whether ``i`` fans out over a mapped argument.

An edge is *pipelined* when it maps a mapped task's children one to one into
another mapped task: it is released as soon as the upstream has expanded into
children, so child ``k`` downstream starts when child ``k`` upstream is done
(depth-first mapping) rather than after the whole upstream layer.

The plan holds no run state; the FlowRunner copies ``gate`` per run.
"""

from __future__ import annotations

from typing import Any

from weir.core.edge import Edge
from weir.core.flow import Flow
from weir.core.task import Parameter, Task


class RunPlan:
    """Indexes over one version of a flow's graph."""

    __slots__ = (
        "flow_version", "tasks", "index", "slugs", "up", "down", "gate", "mapped",
        "constants", "is_parameter", "runners",
    )  # fmt: skip

    def __init__(self, flow: Flow) -> None:
        self.flow_version = flow.version
        tasks: tuple[Task, ...] = flow.sorted_tasks()
        self.tasks = tasks
        index = {t: i for i, t in enumerate(tasks)}
        self.index = index
        self.slugs = [flow.slugs[t] for t in tasks]
        edges_to = {t: flow._up[t] for t in tasks}
        self.mapped = [any(e.mapped for e in edges_to[t]) for t in tasks]
        mapped = self.mapped
        self.up: list[list[tuple[Edge, int, bool]]] = []
        for t in tasks:
            incoming = []
            for e in edges_to[t]:
                j = index[e.upstream_task]
                incoming.append((e, j, e.mapped and not e.flattened and mapped[j]))
            self.up.append(incoming)
        self.down: list[list[tuple[Edge, int, bool]]] = [[] for _ in tasks]
        for i, incoming in enumerate(self.up):
            for e, j, pipelined in incoming:
                self.down[j].append((e, i, pipelined))
        self.gate = [len(incoming) for incoming in self.up]
        self.constants: list[dict[str, Any]] = [dict(flow.constants.get(t, {})) for t in tasks]
        # A Parameter's state is its value, set without running it; a subclass with its own
        # run() (DateTimeParameter parses its value) runs as a task, reading the value there.
        self.is_parameter = [
            isinstance(t, Parameter) and type(t).run is Parameter.run for t in tasks
        ]
        #: TaskRunners built for this plan, by (result, checkpoint) of the flow.
        self.runners: dict[Any, Any] = {}


def plan_for(flow: Flow) -> RunPlan:
    """The flow's plan, cached on the flow until its graph changes."""
    plan: RunPlan | None = getattr(flow, "_run_plan", None)
    if plan is None or plan.flow_version != flow.version:
        plan = RunPlan(flow)
        flow._run_plan = plan  # type: ignore[attr-defined]
    return plan
