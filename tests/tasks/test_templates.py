"""Prefect 1's template tasks, as its docs use them."""

from __future__ import annotations

import pytest

from weir import Flow, Parameter, task
from weir.tasks.templates import JinjaTemplate, StringFormatter


def test_string_formatter_takes_arguments_and_context_values() -> None:
    message = StringFormatter(name="message body", template="Hi {name}! Flow {flow_name}, {today}.")
    with Flow("string-template") as flow:
        out = message(name="Marvin")
    state = flow.run(context={"today": "2019-08-28"})
    assert state.result[out].result == "Hi Marvin! Flow string-template, 2019-08-28."


def test_string_formatter_formats_upstream_results_and_a_template_given_at_call() -> None:
    @task
    def count() -> int:
        return 3

    with Flow("upstream") as flow:
        who = Parameter("who", default="ops")
        out = StringFormatter()(template="{n} rows for {who}", n=count(), who=who)
    assert flow.run().result[out].result == "3 rows for ops"


def test_string_formatter_names_a_missing_value() -> None:
    with Flow("missing") as flow:
        out = StringFormatter(name="msg", template="{nobody}")()
    state = flow.run()
    assert state.result[out].is_failed()
    assert "Task 'msg': the template uses {nobody}" in str(state.result[out].result)


def test_jinja_template_renders_with_arguments_and_context() -> None:
    page = JinjaTemplate(template="{% for r in rows %}{{ r }}{% endfor %} in {{ flow_name }}")
    with Flow("jinja") as flow:
        out = page(rows=[1, 2, 3])
    assert flow.run().result[out].result == "123 in jinja"


@pytest.mark.parametrize("kind", [StringFormatter, JinjaTemplate])
def test_an_argument_wins_over_a_context_value(kind: type) -> None:
    template = "{flow_name}" if kind is StringFormatter else "{{ flow_name }}"
    with Flow("ctx") as flow:
        out = kind(template=template)(flow_name="given")
    assert flow.run().result[out].result == "given"
