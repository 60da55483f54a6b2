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


class _TemplateTask(Task):
    """A task that fills ``template`` with its call's keywords and the context."""

    def __init__(self, template: str | None = None, **kwargs: Any) -> None:
        self.template = template or ""
        super().__init__(**kwargs)

    def run(self, template: str | None = None, **format_kwargs: Any) -> str:
        text = self.template if template is None else template
        # An argument wins over a context value of the same name.
        return self.fill(text, {**context.to_dict(), **format_kwargs})

    def fill(self, text: str, values: dict[str, Any]) -> str:
        raise NotImplementedError


class StringFormatter(_TemplateTask):
    """Format ``template`` (``str.format`` syntax) with the call's keywords and the context.

    Args:
        template: the default template; a ``template=`` given to the call wins.
        **kwargs: the Task's options.
    """

    def fill(self, text: str, values: dict[str, Any]) -> str:
        try:
            return text.format(**values)
        except KeyError as exc:
            raise ValueError(
                f"Task '{self.name}': the template uses {{{exc.args[0]}}}, which was neither "
                "passed to the task nor is a context value. Pass it as a keyword argument."
            ) from exc


class JinjaTemplate(_TemplateTask):
    """Render a Jinja2 ``template`` with the call's keywords and the context.

    Args:
        template: the default template; a ``template=`` given to the call wins.
        **kwargs: the Task's options.
    """

    def fill(self, text: str, values: dict[str, Any]) -> str:
        from jinja2 import Template

        return Template(text).render(**values)


def __getattr__(name: str) -> object:
    # A submodule on first access, as after Prefect 1's eager imports (weir._submodules).
    from weir._submodules import submodule

    return submodule(__name__, name)
