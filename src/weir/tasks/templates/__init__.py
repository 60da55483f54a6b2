"""Prefect 1's template tasks: ``StringFormatter`` and ``JinjaTemplate``.

Both fill a template with the keyword arguments they are called with (results of
upstream tasks, constants) and with the run's context values (``today``,
``flow_name``, ``parameters``…); an argument wins over a context value of the
same name.
"""

from __future__ import annotations

from typing import Any

from weir.context import context
from weir.core.task import Task

__all__ = ["JinjaTemplate", "StringFormatter"]


def _values(given: dict[str, Any]) -> dict[str, Any]:
    return {**context.to_dict(), **given}


class StringFormatter(Task):
    """Format ``template`` (``str.format`` syntax) with the call's keywords and the context.

    Args:
        template: the default template; a ``template=`` given to the call wins.
        **kwargs: the Task's options.
    """

    def __init__(self, template: str | None = None, **kwargs: Any) -> None:
        self.template = template or ""
        super().__init__(**kwargs)

    def run(self, template: str | None = None, **format_kwargs: Any) -> str:
        text = self.template if template is None else template
        values = _values(format_kwargs)
        try:
            return text.format(**values)
        except KeyError as exc:
            raise ValueError(
                f"Task '{self.name}': the template uses {{{exc.args[0]}}}, which was neither "
                "passed to the task nor is a context value. Pass it as a keyword argument."
            ) from exc


class JinjaTemplate(Task):
    """Render a Jinja2 ``template`` with the call's keywords and the context.

    Args:
        template: the default template; a ``template=`` given to the call wins.
        **kwargs: the Task's options.
    """

    def __init__(self, template: str | None = None, **kwargs: Any) -> None:
        self.template = template or ""
        super().__init__(**kwargs)

    def run(self, template: str | None = None, **format_kwargs: Any) -> str:
        from jinja2 import Template

        text = self.template if template is None else template
        return Template(text).render(**_values(format_kwargs))
