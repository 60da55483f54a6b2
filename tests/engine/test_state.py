"""weir.engine.state: the state classes, their questions, and the transition table."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from weir.engine import state as st
from weir.engine.state import (
    ALLOWED_TRANSITIONS,
    Cached,
    Cancelled,
    Cancelling,
    Failed,
    Finished,
    Looped,
    Mapped,
    Paused,
    Pending,
    Retrying,
    Running,
    Scheduled,
    Skipped,
    State,
    StateType,
    Submitted,
    Success,
    TimedOut,
    TriggerFailed,
    check_transition,
    state_from_dict,
)
from weir.exceptions import InvalidTransition

ALL_STATES: list[type[State]] = [
    Pending,
    Scheduled,
    Retrying,
    Paused,
    Submitted,
    Running,
    Cancelling,
    Success,
    Cached,
    Mapped,
    Skipped,
    Failed,
    TriggerFailed,
    TimedOut,
    Cancelled,
    Looped,
]

# Which is_* questions answer True, written out per class (everything else is False).
TRUE_QUESTIONS: dict[type[State], set[str]] = {
    Pending: {"pending"},
    Scheduled: {"pending", "scheduled"},
    Retrying: {"pending", "scheduled", "retrying"},
    Paused: {"pending", "scheduled", "paused"},
    Submitted: {"submitted"},
    Running: {"running"},
    Cancelling: {"running", "cancelling"},
    Success: {"finished", "successful"},
    Cached: {"finished", "successful", "cached"},
    Mapped: {"finished", "successful", "mapped"},
    Skipped: {"finished", "successful", "skipped"},
    Failed: {"finished", "failed"},
    TriggerFailed: {"finished", "failed"},
    TimedOut: {"finished", "failed"},
    Cancelled: {"finished", "cancelled"},
    Looped: {"finished", "looped"},
}
QUESTIONS = sorted(set().union(*TRUE_QUESTIONS.values()))


class TestStateClasses:
    def test_every_state_type_has_a_class(self) -> None:
        assert {cls.type for cls in ALL_STATES} == set(StateType)
        assert st.STATE_CLASSES == {cls.type: cls for cls in ALL_STATES}

    @pytest.mark.parametrize("cls", ALL_STATES, ids=lambda c: c.__name__)
    def test_type_value_is_the_class_name(self, cls: type[State]) -> None:
        assert cls.type.value == cls.__name__
        assert cls().name == cls.__name__
        assert str(cls.type) == cls.__name__

    @pytest.mark.parametrize("cls", ALL_STATES, ids=lambda c: c.__name__)
    @pytest.mark.parametrize("question", QUESTIONS)
    def test_is_questions(self, cls: type[State], question: str) -> None:
        answer = getattr(cls(), f"is_{question}")()
        assert answer is (question in TRUE_QUESTIONS[cls])

    @pytest.mark.parametrize(
        ("cls", "base"),
        [
            (Scheduled, Pending),
            (Retrying, Scheduled),
            (Paused, Scheduled),
            (Cancelling, Running),
            (Success, Finished),
            (Cached, Success),
            (Mapped, Success),
            (Skipped, Success),
            (Failed, Finished),
            (TriggerFailed, Failed),
            (TimedOut, Failed),
            (Cancelled, Finished),
            (Looped, Finished),
        ],
    )
    def test_prefect_1_hierarchy(self, cls: type[State], base: type[State]) -> None:
        assert issubclass(cls, base)

    @pytest.mark.parametrize("cls", ALL_STATES, ids=lambda c: c.__name__)
    def test_message_and_result(self, cls: type[State]) -> None:
        s = cls("hello", result={"a": 1})
        assert s.message == "hello"
        assert s.result == {"a": 1}
        blank = cls()
        assert blank.message is None and blank.result is None

    def test_timestamp_is_a_utc_datetime_of_creation(self) -> None:
        before = dt.datetime.now(dt.timezone.utc)
        s = Success()
        after = dt.datetime.now(dt.timezone.utc)
        assert before - dt.timedelta(seconds=1) <= s.timestamp <= after + dt.timedelta(seconds=1)
        assert s.timestamp.tzinfo is not None

    def test_equality_is_by_type_result_and_data_not_message_as_in_prefect_1(self) -> None:
        assert Success("m", result=1) == Success("m", result=1)
        assert Success("m", result=1) != Success("m", result=2)
        assert Success("m") != Cached("m")
        # Prefect 1: "Equality depends on state type and data, but not message or context".
        assert Success("a", result=1) == Success("b", result=1)
        assert Success(result=1, context={"a": 1}) == Success(result=1)
        assert Retrying(start_time=10, run_count=1) == Retrying("x", start_time=10, run_count=1)
        assert Retrying(start_time=10, run_count=1) != Retrying(start_time=10, run_count=2)
        assert Retrying(start_time=10) != Retrying(start_time=20)

    def test_repr(self) -> None:
        assert repr(Failed("boom")) == "<Failed: 'boom'>"
        assert repr(Pending()) == "<Pending>"

    def test_states_are_slotted(self) -> None:
        # The engine makes many states: no per-state __dict__ (information of one's own
        # goes in the state's context).
        with pytest.raises(AttributeError):
            Success().color = "#00FF00"  # type: ignore[attr-defined]

    def test_a_handler_may_change_the_attributes_of_a_state(self) -> None:
        s = Retrying(start_time=1.0, run_count=1)
        s.message, s.result, s.run_count = "changed", 5, 2
        s.start_time = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
        s.context["why"] = "a test"
        assert (s.message, s.result, s.run_count, s.context) == ("changed", 5, 2, {"why": "a test"})
        assert s.start_time == dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)

    def test_context_is_a_dict_from_creation(self) -> None:
        s = Running()
        s.context["tags"] = ["a"]
        assert s.context == {"tags": ["a"]}
        assert Success(context={"k": 1}).context == {"k": 1}


class TestStateSpecifics:
    def test_scheduled_start_time_is_an_aware_datetime(self) -> None:
        # Prefect 1: start_time is a (pendulum) datetime in UTC.
        when = dt.datetime(2030, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
        s = Scheduled(start_time=when)
        assert s.start_time == when and s.start_time.tzinfo is not None
        assert s.start_time.utcoffset() == dt.timedelta(0)
        assert s.start_ts == when.timestamp()
        assert Retrying(start_time=when).start_time == when

    def test_a_naive_start_time_is_utc(self) -> None:
        # As pendulum.instance reads it in Prefect 1.
        naive = dt.datetime(2030, 1, 1, 12)
        assert Scheduled(start_time=naive).start_time == naive.replace(tzinfo=dt.timezone.utc)

    def test_start_time_defaults_to_now_except_when_paused(self) -> None:
        before = dt.datetime.now(dt.timezone.utc)
        for cls in (Scheduled, Retrying):
            s = cls()
            assert s.start_ts is None
            assert before - dt.timedelta(seconds=1) <= s.start_time <= s.timestamp
        assert Paused().start_time is None

    def test_start_time_accepts_seconds_and_can_be_set(self) -> None:
        s = Scheduled(start_time=5.0)
        assert s.start_time == dt.datetime(1970, 1, 1, 0, 0, 5, tzinfo=dt.timezone.utc)
        s.start_time = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
        assert s.start_ts == dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc).timestamp()
        p = Paused()
        p.start_time = 7.0
        assert p.start_time is not None and p.start_ts == 7.0

    def test_a_start_time_of_another_type_is_refused(self) -> None:
        with pytest.raises(TypeError, match="start_time must be a datetime"):
            Scheduled(start_time="tomorrow")  # type: ignore[arg-type]

    def test_retrying_run_count(self) -> None:
        assert Retrying(run_count=3, start_time=1.0).run_count == 3
        assert Retrying().run_count == 1

    def test_mapped_children_and_counts(self) -> None:
        m = Mapped(map_states=[Success(), Failed(), Success()])
        assert m.n_map_states == 3
        assert m.counts() == {"Success": 2, "Failed": 1}
        assert Mapped().map_states == []

    def test_cached_fields(self) -> None:
        c = Cached(
            result=1,
            cached_inputs={"x": 1},
            cached_parameters={"p": 2},
            cached_result_expiration=10.0,
        )
        assert (c.cached_inputs, c.cached_parameters, c.cached_result_expiration) == (
            {"x": 1},
            {"p": 2},
            10.0,
        )

    def test_looped_count(self) -> None:
        assert Looped(loop_count=4).loop_count == 4


class TestSerialization:
    @pytest.mark.parametrize("cls", ALL_STATES, ids=lambda c: c.__name__)
    def test_round_trip_without_result(self, cls: type[State]) -> None:
        s = cls("msg", result=object(), location="file:///x")
        data = s.to_dict()
        assert data["type"] == cls.__name__
        assert "result" not in data
        back = state_from_dict(data)
        assert type(back) is cls
        assert (back.message, back.location, back.ts) == ("msg", "file:///x", s.ts)
        assert back.result is None

    def test_schedule_fields_survive(self) -> None:
        back = state_from_dict(Retrying(start_time=12.5, run_count=2).to_dict())
        assert isinstance(back, Retrying)
        assert (back.start_ts, back.run_count) == (12.5, 2)

    def test_times_travel_as_seconds(self) -> None:
        # The API carries floats; only the Python attributes are datetimes.
        when = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
        data = Scheduled(start_time=when).to_dict()
        assert data["start_time"] == when.timestamp() and isinstance(data["timestamp"], float)
        assert Scheduled().to_dict()["start_time"] is None

    def test_mapped_sends_counts(self) -> None:
        data = Mapped(map_states=[Success(), Skipped()]).to_dict()
        assert data["map_counts"] == {"Success": 1, "Skipped": 1}


# --- the transition table, against an expectation written out as rules -----------
T = StateType
WAITING = {T.PENDING, T.SCHEDULED, T.RETRYING, T.PAUSED}
ENDED_WELL = {T.SUCCESS, T.CACHED, T.MAPPED, T.SKIPPED}
ENDED_BADLY = {T.FAILED, T.TRIGGER_FAILED, T.TIMED_OUT, T.CANCELLED}
ENDED = ENDED_WELL | ENDED_BADLY


def expected_allowed(a: StateType, b: StateType) -> bool:
    """Whether a run in ``a`` may move to ``b``: the rules the table must encode."""
    if a in ENDED_WELL:
        return False  # a successful run never moves again
    if a in ENDED_BADLY:
        return b in {T.SCHEDULED, T.PENDING}  # only a restart moves a failed run
    if a == T.CANCELLING:
        return b in {T.CANCELLED, T.FAILED, T.SUCCESS, T.TIMED_OUT}  # it is stopping
    if b == T.CANCELLING:
        return a in {T.SUBMITTED, T.RUNNING}  # only started work needs time to stop
    if b == T.LOOPED:
        return a in {T.RUNNING, T.LOOPED}  # only a running task can loop
    if a in WAITING:
        return b in WAITING | {T.SUBMITTED, T.RUNNING} | ENDED
    if a == T.SUBMITTED:
        # Claimed: it starts, is handed back, or ends; never claimed twice.
        return b in {T.RUNNING, T.SCHEDULED, T.PENDING} | ENDED
    if a == T.RUNNING:
        return b in {T.RUNNING, T.SCHEDULED, T.RETRYING, T.PAUSED} | ENDED
    if a == T.LOOPED:
        return b in {T.RUNNING, T.SCHEDULED, T.RETRYING} | ENDED
    raise AssertionError(f"no rule for {a}")


PAIRS = list(itertools.product(StateType, StateType))


class TestTransitions:
    def test_table_covers_every_state(self) -> None:
        assert set(ALLOWED_TRANSITIONS) == set(StateType)

    @pytest.mark.parametrize(("a", "b"), PAIRS, ids=[f"{a.value}->{b.value}" for a, b in PAIRS])
    def test_every_pair(self, a: StateType, b: StateType) -> None:
        allowed = expected_allowed(a, b)
        assert (b in ALLOWED_TRANSITIONS[a]) is allowed
        if allowed:
            check_transition(a, b)
        else:
            with pytest.raises(InvalidTransition) as err:
                check_transition(a, b, subject="flow run 'x'")
            message = str(err.value)
            assert f"flow run 'x' cannot move from {a.value} to {b.value}" in message

    def test_refusal_lists_what_is_allowed(self) -> None:
        with pytest.raises(InvalidTransition, match=r"may only move to Pending, Scheduled"):
            check_transition(T.FAILED, T.RUNNING)
        with pytest.raises(InvalidTransition, match=r"nothing \(it is final\)"):
            check_transition(T.SUCCESS, T.RUNNING)

    @pytest.mark.parametrize("b", list(StateType), ids=lambda s: s.value)
    def test_a_new_run_may_start_anywhere(self, b: StateType) -> None:
        check_transition(None, b)

    def test_finished_types(self) -> None:
        assert st.FINISHED_TYPES == ENDED
        assert st.FAILED_TYPES == {T.FAILED, T.TRIGGER_FAILED, T.TIMED_OUT}
        assert st.SUCCESSFUL_TYPES == ENDED_WELL
