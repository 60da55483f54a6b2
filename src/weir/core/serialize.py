"""``Flow.serialize()``: the JSON description of a flow that the server stores.

The shape is a contract with the server (see docs/concepts/server.md)::

    {"name", "tasks": [{slug, name, type, max_retries, retry_delay, timeout, trigger,
                        skip_on_upstream_skip, tags, cache_for, checkpoint,
                        is_parameter, mapped, is_reference}],
     "edges": [{upstream, downstream, key, mapped}],
     "parameters": [{name, slug, default, required}],
     "reference_tasks": [slug], "schedule": None | Schedule.serialize()}

Durations are seconds (floats). The same script always gives the same output.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from weir.core.task import Parameter, Task
from weir.exceptions import FlowValidationError

if TYPE_CHECKING:
    from weir.core.flow import Flow


def serialize_flow(flow: Flow) -> dict[str, Any]:
    flow.validate()
    slugs = flow.slugs
    reference = flow.reference_tasks()
    mapped_tasks = {e.downstream_task for e in flow.edge_list() if e.mapped}
    return {
        "name": flow.name,
        "tasks": [
            _task(t, slugs[t], t in mapped_tasks, t in reference) for t in flow.sorted_tasks()
        ],
        "edges": [
            {
                "upstream": slugs[e.upstream_task],
                "downstream": slugs[e.downstream_task],
                "key": e.key,
                "mapped": e.mapped,
            }
            for e in flow.edge_list()
        ],
        "parameters": [_parameter(flow, p) for p in _parameters_in_order(flow)],
        "reference_tasks": sorted(slugs[t] for t in reference),
        "schedule": _schedule(flow),
    }


def _task(t: Task, slug: str, is_mapped: bool, is_reference: bool) -> dict[str, Any]:
    trigger = t.trigger
    return {
        "slug": slug,
        "name": t.name,
        "type": f"{type(t).__module__}.{type(t).__qualname__}",
        "max_retries": t.max_retries,
        "retry_delay": t.retry_delay_s,
        "timeout": t.timeout_s,
        "trigger": getattr(trigger, "__name__", repr(trigger)) if trigger else "all_successful",
        "skip_on_upstream_skip": t.skip_on_upstream_skip,
        "tags": sorted(t.tags),
        "cache_for": t.cache_for_s,
        "checkpoint": t.checkpoint,
        "is_parameter": isinstance(t, Parameter),
        "mapped": is_mapped,
        "is_reference": is_reference,
    }


def _parameters_in_order(flow: Flow) -> list[Parameter]:
    return [t for t in flow.task_list() if isinstance(t, Parameter)]


def _parameter(flow: Flow, p: Parameter) -> dict[str, Any]:
    try:
        json.dumps(p.default)
    except (TypeError, ValueError):
        raise FlowValidationError(
            f"Flow '{flow.name}': the default of Parameter '{p.name}' "
            f"({type(p.default).__name__}) is not JSON-serializable, so it cannot be sent to "
            "a server. Use a JSON value (str, number, bool, list, dict or None)."
        ) from None
    return {"name": p.name, "slug": p.name, "default": p.default, "required": p.required}


def _schedule(flow: Flow) -> dict[str, Any] | None:
    if flow.schedule is None:
        return None
    serialize = getattr(flow.schedule, "serialize", None)
    if serialize is None:
        raise FlowValidationError(
            f"Flow '{flow.name}': its schedule ({type(flow.schedule).__name__}) cannot be "
            "serialized; use weir.schedules.Schedule."
        )
    data: dict[str, Any] = serialize()
    return data
