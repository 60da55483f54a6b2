"""Cache validators: expiration first, then inputs or parameters, whole or in part."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from weir.engine import cache_validators as cv
from weir.engine.results import Result
from weir.engine.state import Cached, Success

FUTURE = time.time() + 3600
PAST = time.time() - 3600


def cached(expiration=FUTURE, inputs=None, parameters=None):
    return Cached(
        result=1,
        cached_result_expiration=expiration,
        cached_inputs=inputs,
        cached_parameters=parameters,
    )


ALL = [
    cv.never_use,
    cv.duration_only,
    cv.all_inputs,
    cv.all_parameters,
    cv.partial_inputs_only(["x"]),
    cv.partial_parameters_only(["p"]),
]


@pytest.mark.parametrize("validator", ALL)
def test_an_expired_cache_is_never_used(validator):
    state = cached(PAST, inputs={"x": 1}, parameters={"p": 1})
    assert validator(state, {"x": 1}, {"p": 1}) is False


def test_never_use_refuses_even_a_fresh_matching_cache():
    assert cv.never_use(cached(inputs={}, parameters={}), {}, {}) is False


class TestDurationOnly:
    def test_unexpired(self):
        assert cv.duration_only(cached(FUTURE), {"x": 1}, {"p": 2}) is True

    def test_no_expiration_means_forever(self):
        assert cv.duration_only(cached(None), {}, {}) is True

    def test_a_datetime_expiration_is_understood(self):
        past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
        assert cv.duration_only(cached(past), {}, {}) is False

    def test_a_plain_success_state_has_no_expiration(self):
        assert cv.duration_only(Success(result=1), {}, {}) is True


class TestAllInputs:
    def test_matching_inputs(self):
        assert cv.all_inputs(cached(inputs={"x": 1, "y": [2]}), {"x": 1, "y": [2]}, {}) is True

    def test_a_different_value(self):
        assert cv.all_inputs(cached(inputs={"x": 1, "y": 2}), {"x": 1, "y": 3}, {}) is False

    def test_an_extra_or_missing_input(self):
        assert cv.all_inputs(cached(inputs={"x": 1}), {"x": 1, "y": 2}, {}) is False
        assert cv.all_inputs(cached(inputs={"x": 1, "y": 2}), {"x": 1}, {}) is False

    def test_cached_inputs_stored_as_results_compare_by_value(self):
        state = cached(inputs={"x": Result(5), "y": Result([1])})
        assert cv.all_inputs(state, {"x": 5, "y": [1]}, {}) is True
        assert cv.all_inputs(state, {"x": 6, "y": [1]}, {}) is False

    def test_no_inputs_on_either_side(self):
        assert cv.all_inputs(cached(inputs=None), {}, {}) is True

    def test_parameters_do_not_matter(self):
        assert cv.all_inputs(cached(inputs={"x": 1}, parameters={"p": 1}), {"x": 1}, {"p": 2})

    def test_values_without_a_plain_truth_value_are_compared(self):
        class Vector(list):  # like a numpy array: == gives an elementwise object
            def __eq__(self, other):
                return _Ambiguous()

        state = cached(inputs={"v": Vector([1, 2])})
        assert cv.all_inputs(state, {"v": Vector([1, 2])}, {}) is True
        assert cv.all_inputs(state, {"v": Vector([1, 3])}, {}) is False


class _Ambiguous:
    def __bool__(self):
        raise ValueError("The truth value of an array is ambiguous.")


class TestAllParameters:
    def test_matching(self):
        assert cv.all_parameters(cached(parameters={"p": 1, "q": "a"}), {}, {"p": 1, "q": "a"})

    def test_different(self):
        assert not cv.all_parameters(cached(parameters={"p": 1}), {}, {"p": 2})

    def test_inputs_do_not_matter(self):
        assert cv.all_parameters(cached(inputs={"x": 1}, parameters={"p": 1}), {"x": 9}, {"p": 1})


class TestPartialInputsOnly:
    def test_only_named_inputs_are_compared(self):
        v = cv.partial_inputs_only(validate_on=["x"])
        state = cached(inputs={"x": 1, "y": 2})
        assert v(state, {"x": 1, "y": 99}, {}) is True
        assert v(state, {"x": 2, "y": 2}, {}) is False

    def test_a_named_input_missing_on_one_side(self):
        v = cv.partial_inputs_only(validate_on=["x", "z"])
        assert v(cached(inputs={"x": 1}), {"x": 1, "z": 0}, {}) is False

    def test_a_single_string_is_one_name(self):
        v = cv.partial_inputs_only(validate_on="xy")
        state = cached(inputs={"xy": 1, "x": 1})
        assert v(state, {"xy": 1, "x": 2}, {}) is True
        assert v(state, {"xy": 2, "x": 1}, {}) is False

    def test_no_names_checks_expiration_only(self):
        v = cv.partial_inputs_only()
        assert v(cached(inputs={"x": 1}), {"x": 2}, {}) is True
        assert v(cached(PAST, inputs={"x": 1}), {"x": 1}, {}) is False

    def test_results_compare_by_value(self):
        v = cv.partial_inputs_only(["x"])
        assert v(cached(inputs={"x": Result(3)}), {"x": 3}, {}) is True


class TestPartialParametersOnly:
    def test_only_named_parameters_are_compared(self):
        v = cv.partial_parameters_only(validate_on=["p"])
        state = cached(parameters={"p": 1, "q": 2})
        assert v(state, {}, {"p": 1, "q": 99}) is True
        assert v(state, {}, {"p": 2, "q": 2}) is False

    def test_no_names_checks_expiration_only(self):
        v = cv.partial_parameters_only(None)
        assert v(cached(parameters={"p": 1}), {}, {"p": 2}) is True
        assert v(cached(PAST), {}, {}) is False

    def test_inputs_do_not_matter(self):
        v = cv.partial_parameters_only(["p"])
        assert v(cached(inputs={"x": 1}, parameters={"p": 1}), {"x": 2}, {"p": 1}) is True
