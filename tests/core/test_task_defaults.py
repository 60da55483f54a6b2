"""A task's trigger and cache validator have their defaults from creation, as Prefect 1's
do: ``all_successful``, and ``never_use`` (``duration_only`` with ``cache_for``)."""

from __future__ import annotations

import datetime as dt
import pickle

import cloudpickle

from weir import Parameter, Task, task, triggers
from weir.engine import cache_validators


@task
def work() -> int:
    return 1


def test_a_new_task_has_the_default_trigger_and_cache_validator() -> None:
    t = Task()
    assert t.trigger is triggers.all_successful
    assert t.cache_validator is cache_validators.never_use
    assert work.trigger is triggers.all_successful
    assert Parameter("p").trigger is triggers.all_successful


def test_a_cached_task_validates_on_duration_by_default() -> None:
    t = Task(cache_for=dt.timedelta(hours=1))
    assert t.cache_validator is cache_validators.duration_only


def test_given_ones_are_kept() -> None:
    t = Task(
        trigger=triggers.always_run,
        cache_for=dt.timedelta(hours=1),
        cache_validator=cache_validators.all_inputs,
    )
    assert t.trigger is triggers.always_run
    assert t.cache_validator is cache_validators.all_inputs


def test_they_can_be_set_after_creation() -> None:
    t = Task()
    t.trigger = triggers.any_failed
    assert t.trigger is triggers.any_failed
    t.trigger = None  # back to the default
    assert t.trigger is triggers.all_successful


def test_copies_and_pickles_keep_them() -> None:
    t = Task(trigger=triggers.all_finished)
    assert t.copy().trigger is triggers.all_finished
    assert work.copy(trigger=triggers.any_failed).trigger is triggers.any_failed
    assert pickle.loads(cloudpickle.dumps(t)).trigger is triggers.all_finished
    assert pickle.loads(cloudpickle.dumps(Task())).trigger is triggers.all_successful


def test_a_task_pickled_with_plain_attributes_still_loads() -> None:
    # Tasks pickled before trigger and cache_validator became properties.
    t = Task()
    state = t.__getstate__()
    state.pop("_trigger"), state.pop("_cache_validator")
    state["trigger"], state["cache_validator"] = triggers.any_failed, None
    old = Task.__new__(Task)
    old.__setstate__(state)
    assert old.trigger is triggers.any_failed
    assert old.cache_validator is cache_validators.never_use
