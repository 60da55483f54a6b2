"""Operator tasks: what Python operators on tasks build, as in Prefect 1.

Inside a flow, ``a + b`` (a or b a task) binds an ``Add`` task whose result is
the sum of their results; likewise ``- * / // % **``, ``&`` (``and``), and the
comparisons ``< <= > >=``. ``==`` and ``!=`` keep their Python meaning (tasks are
graph nodes compared by identity), so equality is ``a.is_equal(b)`` /
``a.is_not_equal(b)``; ``a.not_()`` and ``a.or_(b)`` give ``not`` and ``or``.
``|`` sets a state dependency: ``a | b`` makes b run after a.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, ClassVar

from weir.core.task import Task

__all__ = [
    "Add", "And", "Div", "Equal", "FloorDiv", "GetAttr", "GreaterThan",
    "GreaterThanOrEqual", "LessThan", "LessThanOrEqual", "Mod", "Mul", "Not",
    "NotEqual", "Or", "Pow", "Sub",
]  # fmt: skip


class _Binary(Task):
    """``op(x, y)`` on its two arguments' results."""

    op: ClassVar[Callable[[Any, Any], Any]]

    def run(self, x: Any, y: Any) -> Any:
        return type(self).op(x, y)


class Add(_Binary):
    """``x + y``."""

    op = operator.add


class Sub(_Binary):
    """``x - y``."""

    op = operator.sub


class Mul(_Binary):
    """``x * y``."""

    op = operator.mul


class Div(_Binary):
    """``x / y``."""

    op = operator.truediv


class FloorDiv(_Binary):
    """``x // y``."""

    op = operator.floordiv


class Mod(_Binary):
    """``x % y``."""

    op = operator.mod


class Pow(_Binary):
    """``x ** y``."""

    op = operator.pow


class And(_Binary):
    """``x and y`` (what ``&`` on tasks builds)."""

    def run(self, x: Any, y: Any) -> Any:
        return x and y


class Or(_Binary):
    """``x or y`` (``a.or_(b)``)."""

    def run(self, x: Any, y: Any) -> Any:
        return x or y


class Equal(_Binary):
    """``x == y`` (``a.is_equal(b)``)."""

    op = operator.eq


class NotEqual(_Binary):
    """``x != y`` (``a.is_not_equal(b)``)."""

    op = operator.ne


class GreaterThan(_Binary):
    """``x > y``."""

    op = operator.gt


class GreaterThanOrEqual(_Binary):
    """``x >= y``."""

    op = operator.ge


class LessThan(_Binary):
    """``x < y``."""

    op = operator.lt


class LessThanOrEqual(_Binary):
    """``x <= y``."""

    op = operator.le


class Not(Task):
    """``not x`` (``a.not_()``)."""

    def run(self, x: Any) -> bool:
        return not x


class GetAttr(Task):
    """``getattr(task_result, attr)``, or ``default`` when given and the attribute is missing."""

    _MISSING: ClassVar[Any] = object()

    def run(self, task_result: Any, attr: str, default: Any = _MISSING) -> Any:
        if default is GetAttr._MISSING:
            return getattr(task_result, attr)
        return getattr(task_result, attr, default)
