"""Operators on tasks: ``a + b``, ``a < b``, ``a | b``… build tasks, as in Prefect 1.

``Task`` inherits these methods; each binds an operator task of
``weir.core.operators`` (imported when first used, since that module builds on
``Task``) in the flow of the task it is called on. ``==`` and ``!=`` are left to
Python (tasks are graph nodes compared by identity): ``is_equal`` and
``is_not_equal`` build the comparisons instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from weir.core.flow import Flow
    from weir.core.task import Task


def _flow_of(task: Any) -> Flow:
    from weir.core.task import _resolve_flow

    return _resolve_flow(task, None)


class OperatorMethods:
    """The operator methods of ``Task``."""

    def _operate(self, kind: str, *operands: Any) -> Task:
        from weir.core import operators

        flow = _flow_of(self)
        return getattr(operators, kind)().bind(*operands, flow=flow)  # type: ignore[no-any-return]

    def __add__(self, other: Any) -> Task:
        return self._operate("Add", self, other)

    def __radd__(self, other: Any) -> Task:
        return self._operate("Add", other, self)

    def __sub__(self, other: Any) -> Task:
        return self._operate("Sub", self, other)

    def __rsub__(self, other: Any) -> Task:
        return self._operate("Sub", other, self)

    def __mul__(self, other: Any) -> Task:
        return self._operate("Mul", self, other)

    def __rmul__(self, other: Any) -> Task:
        return self._operate("Mul", other, self)

    def __truediv__(self, other: Any) -> Task:
        return self._operate("Div", self, other)

    def __rtruediv__(self, other: Any) -> Task:
        return self._operate("Div", other, self)

    def __floordiv__(self, other: Any) -> Task:
        return self._operate("FloorDiv", self, other)

    def __rfloordiv__(self, other: Any) -> Task:
        return self._operate("FloorDiv", other, self)

    def __mod__(self, other: Any) -> Task:
        return self._operate("Mod", self, other)

    def __rmod__(self, other: Any) -> Task:
        return self._operate("Mod", other, self)

    def __pow__(self, other: Any) -> Task:
        return self._operate("Pow", self, other)

    def __rpow__(self, other: Any) -> Task:
        return self._operate("Pow", other, self)

    def __and__(self, other: Any) -> Task:
        return self._operate("And", self, other)

    def __rand__(self, other: Any) -> Task:
        return self._operate("And", other, self)

    def __gt__(self, other: Any) -> Task:
        return self._operate("GreaterThan", self, other)

    def __ge__(self, other: Any) -> Task:
        return self._operate("GreaterThanOrEqual", self, other)

    def __lt__(self, other: Any) -> Task:
        return self._operate("LessThan", self, other)

    def __le__(self, other: Any) -> Task:
        return self._operate("LessThanOrEqual", self, other)

    def is_equal(self, other: Any) -> Task:
        """A task whose result is ``self == other`` (``==`` itself compares tasks)."""
        return self._operate("Equal", self, other)

    def is_not_equal(self, other: Any) -> Task:
        """A task whose result is ``self != other``."""
        return self._operate("NotEqual", self, other)

    def not_(self) -> Task:
        """A task whose result is ``not self``."""
        return self._operate("Not", self)

    def or_(self, other: Any) -> Task:
        """A task whose result is ``self or other``."""
        return self._operate("Or", self, other)

    def __or__(self, other: Any) -> Any:
        """``a | b``: b runs after a (a state dependency); returns b, so ``a | b | c`` chains."""
        _flow_of(self).set_dependencies(self, downstream_tasks=[other])
        return other

    def __ror__(self, other: Any) -> Task:
        _flow_of(self).set_dependencies(self, upstream_tasks=[other])
        return self
