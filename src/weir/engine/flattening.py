"""What a ``flatten(...)`` argument of ``Task.map`` maps over: one state per item.

As in Prefect 1:

- a mapped upstream task gives each child's items in turn: a successful child whose
  result is a sized sequence gives one item per element (an empty one gives none);
  any other child (skipped, failed, or whose result is not a sequence) counts as one
  item, its own state, so a skipped child skips the child it feeds downstream and its
  neighbours still run;
- any other upstream (a task, a constant) gives the items of its result flattened by
  one level, or of its result as it is when that is not a list of lists (a flat list
  maps as it stands).
"""

from __future__ import annotations

import logging
from typing import Any

from weir.engine.state import Mapped, Skipped, State, Success

logger = logging.getLogger(__name__)


def flat_states(up: State) -> list[State]:
    """The states of the items a flattened edge from ``up`` maps over.

    Raises TypeError when ``up`` is not mapped and its result has no length.
    """
    if isinstance(up, Mapped):
        return _flat_children(up.map_states)
    items = flatten_once(up.result)
    len(items)  # a result without a length cannot be mapped over: the caller says so
    return [Success(up.message, result=x) for x in items]


def flatten_once(result: Any) -> Any:
    """``result`` flattened by one level: what a flattened edge maps over, and what a
    plain (not mapped) call given ``flatten(x)`` receives, as in Prefect 1; a result
    that is not a list of lists is given as it stands."""
    try:
        return [y for x in result for y in x]
    except TypeError:
        return result  # not a list of lists: mapped over as it stands


def _flat_children(children: list[State]) -> list[State]:
    out: list[State] = []
    unflattened = 0
    for child in children:
        if not child.is_successful() or type(child) is Skipped:
            out.append(child)
            continue
        value = child.result
        if hasattr(value, "__len__") and hasattr(value, "__getitem__"):
            out += [Success(child.message, result=x) for x in value]
        else:
            unflattened += 1
            out.append(child)
    if unflattened:
        logger.warning(
            "flatten was used on a mapped task whose %d child(ren) did not return a "
            "sequence; each such result is passed downstream unmodified.",
            unflattened,
        )
    return out
