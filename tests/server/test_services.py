"""The scheduler and lazarus services, one ``run_once()`` at a time with a hand-moved clock."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from weir.engine.state import StateType
from weir.schedules import IntervalClock, Schedule
from weir.schemas import StateData, actions
from weir.server.database import orm
from weir.server.models import flow_runs, flows, traces
from weir.server.services.lazarus import Lazarus
from weir.server.services.scheduler import Scheduler
from weir.server.settings import LazarusSettings, SchedulerSettings

T0 = 1_800_000_000.0  # a whole hour, so hourly clock times fall on T0 + k * 3600


def _clock(now: list[float]):
    return lambda: now[0]


def _schedule() -> dict:
    clock = IntervalClock(
        dt.timedelta(hours=1),
        start_date=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
        parameter_defaults={"n": 7},
        labels=["nightly"],
    )
    return Schedule([clock]).serialize()


def _register(db, schedule=None, **extra) -> orm.Flow:
    serialized = {
        "name": "sched",
        "schedule": schedule or _schedule(),
        "parameters": [{"name": "n", "slug": "n", "default": 1, "required": False}],
    }
    serialized.update(extra)
    with db.session(write=True) as session:
        return flows.register(session, actions.FlowCreate(serialized_flow=serialized))[0]


def _runs(db, flow_id=None) -> list[orm.FlowRun]:
    with db.session() as session:
        query = select(orm.FlowRun).order_by(orm.FlowRun.scheduled_start_time)
        if flow_id is not None:
            query = query.where(orm.FlowRun.flow_id == flow_id)
        return list(session.scalars(query))


def test_scheduler_keeps_the_next_runs_and_is_idempotent(db):
    flow = _register(db)
    now = [T0 + 10]
    scheduler = Scheduler(db, SchedulerSettings(max_runs=5, horizon=10 * 3600), clock=_clock(now))
    assert scheduler.run_once() == 5
    assert scheduler.run_once() == 0
    runs = _runs(db, flow.id)
    assert [r.scheduled_start_time for r in runs] == [T0 + 3600 * k for k in range(1, 6)]
    assert all(
        r.auto_scheduled and r.parameters == {"n": 7} and r.labels == ["nightly"] for r in runs
    )
    now[0] += 3600  # one slot passes: one more run is made, none twice
    assert scheduler.run_once() == 1
    assert len(_runs(db, flow.id)) == 6


def test_clocks_at_one_time_with_other_parameters_make_one_run_each(db):
    start = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    clocks = [
        IntervalClock(dt.timedelta(hours=1), start_date=start, parameter_defaults={"n": n})
        for n in (1, 2)
    ]
    flow = _register(db, schedule=Schedule(clocks).serialize())
    settings = SchedulerSettings(max_runs=4, horizon=2 * 3600)
    scheduler = Scheduler(db, settings, clock=lambda: T0 + 10)
    assert scheduler.run_once() == 4
    assert scheduler.run_once() == 0  # idempotent: the second run of an instant has its own key
    runs = _runs(db, flow.id)
    assert sorted((r.scheduled_start_time, r.parameters["n"]) for r in runs) == [
        (T0 + 3600, 1),
        (T0 + 3600, 2),
        (T0 + 7200, 1),
        (T0 + 7200, 2),
    ]


def test_horizon_limits_how_far_ahead(db):
    _register(db)
    scheduler = Scheduler(db, SchedulerSettings(max_runs=10, horizon=2.5 * 3600), clock=lambda: T0)
    assert scheduler.run_once() == 2


def test_two_schedulers_at_once_make_each_run_once(db):
    flow = _register(db)
    settings = SchedulerSettings(max_runs=10, horizon=100 * 3600)
    schedulers = [Scheduler(db, settings, clock=lambda: T0) for _ in range(2)]
    threads = [threading.Thread(target=s.run_once) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    runs = _runs(db, flow.id)
    assert len(runs) == 10
    assert len({r.scheduled_start_time for r in runs}) == 10


def test_schedule_off_or_new_version_drops_untouched_runs(db):
    flow = _register(db)
    scheduler = Scheduler(db, SchedulerSettings(max_runs=3), clock=lambda: T0)
    scheduler.run_once()
    with db.session(write=True) as session:
        flows.update_flow(session, flow.id, actions.FlowUpdate(schedule_active=False))
    assert _runs(db) == []
    assert scheduler.run_once() == 0
    with db.session(write=True) as session:
        flows.update_flow(session, flow.id, actions.FlowUpdate(schedule_active=True))
    assert scheduler.run_once() == 3
    newer = _register(db, description_changed=True)
    assert newer.version == 2
    assert _runs(db, flow.id) == []
    assert scheduler.run_once() == 3
    assert len(_runs(db, newer.id)) == 3


def _running_run(db, now: float) -> orm.FlowRun:
    flow = _register(db, schedule=None)
    with db.session(write=True) as session:
        run = flow_runs.create(session, actions.FlowRunCreate(flow_id=flow.id), now).run
        flow_runs.set_state(
            session,
            run.id,
            actions.SetState(state=StateData(type=StateType.RUNNING), version=1),
            now,
        )
        return run


def _lazarus(db, now: list[float], **kw) -> Lazarus:
    options = {"heartbeat_timeout": 30, "submitted_timeout": 20, "max_reschedules": 2, **kw}
    settings = LazarusSettings(**options)
    return Lazarus(db, settings, clock=_clock(now))


def _trace_kinds(db, run_id) -> list[str]:
    with db.session() as session:
        return [e.kind for e in traces.read(session, run_id)]


def test_lazarus_reschedules_a_silent_run_then_fails_it_at_the_limit(db):
    now = [T0]
    run = _running_run(db, T0)
    lazarus = _lazarus(db, now)
    now[0] += 29
    assert lazarus.run_once() == 0
    for attempt in (1, 2):
        now[0] += 31
        assert lazarus.run_once() == 1
        [again] = _runs(db)
        assert again.state_type is StateType.SCHEDULED and again.lazarus_count == attempt
        with db.session(write=True) as session:
            flow_runs.set_state(
                session,
                run.id,
                actions.SetState(state=StateData(type=StateType.RUNNING), version=again.version),
                now[0],
            )
    now[0] += 31
    assert lazarus.run_once() == 1
    [dead] = _runs(db)
    assert dead.state_type is StateType.FAILED
    assert "rescheduled 2 times" in dead.state_message
    assert _trace_kinds(db, run.id).count("rescheduled_by_lazarus") == 2
    assert _trace_kinds(db, run.id)[-1] == "failed_by_lazarus"


def _process_beat(session, run, now):
    flow_runs.heartbeat(session, run.id, now)


def _agent_beat(session, run, now):
    # The process's own heartbeats stopped (a task holds the GIL); its agent sees it
    # alive and says so.
    from weir.server.models import agents

    assert agents.live_runs(session, [actions.LiveRun(id=run.id, attempt=0)], now) == 1


@pytest.mark.parametrize("beat", [_process_beat, _agent_beat], ids=["process", "agent"])
def test_heartbeats_keep_a_run_alive(db, beat):
    now = [T0]
    run = _running_run(db, T0)
    lazarus = _lazarus(db, now)
    for _ in range(5):
        now[0] += 20
        with db.session(write=True) as session:
            beat(session, run, now[0])
        assert lazarus.run_once() == 0


def test_an_agent_vouches_for_a_run_at_its_attempt_only(db):
    # An agent naming an attempt the run has left, or a run no longer started, vouches
    # for nothing.
    from weir.server.models import agents

    now = [T0]
    run = _running_run(db, T0)
    lazarus = _lazarus(db, now)
    with db.session(write=True) as session:
        stale = [actions.LiveRun(id=run.id, attempt=7)]
        assert agents.live_runs(session, stale, now[0] + 20) == 0
    now[0] += 31
    assert lazarus.run_once() == 1
    assert _runs(db)[0].state_type is StateType.SCHEDULED
    with db.session(write=True) as session:
        assert agents.live_runs(session, [actions.LiveRun(id=run.id, attempt=0)], now[0]) == 0


def test_a_submitted_run_its_agent_sees_starting_is_not_handed_back(db):
    from weir.server.models import agents, work

    flow = _register(db, schedule=None)
    with db.session(write=True) as session:
        run = flow_runs.create(session, actions.FlowRunCreate(flow_id=flow.id), T0).run
        [claimed] = work.claim(session, [], 10, T0)
    now = [T0]
    lazarus = _lazarus(db, now)
    now[0] += 15
    with db.session(write=True) as session:
        live = [actions.LiveRun(id=run.id, attempt=claimed.attempt)]
        assert agents.live_runs(session, live, now[0]) == 1
    now[0] += 10  # submitted 25 s ago, past the 20 s timeout; vouched for 10 s ago
    assert lazarus.run_once() == 0
    now[0] += 21  # and then silence
    assert lazarus.run_once() == 1
    assert _runs(db)[0].state_type is StateType.SCHEDULED


def test_lazarus_hands_back_a_run_stuck_in_submitted(db):
    from weir.server.models import work

    flow = _register(db, schedule=None)
    with db.session(write=True) as session:
        run = flow_runs.create(session, actions.FlowRunCreate(flow_id=flow.id), T0).run
        work.claim(session, [], 10, T0)
    now = [T0]
    lazarus = _lazarus(db, now)  # up since the claim
    now[0] += 21
    assert lazarus.run_once() == 1
    [back] = _runs(db)
    assert back.state_type is StateType.SCHEDULED and back.agent_id is None
    assert _trace_kinds(db, run.id)[-1] == "handed_back"


def test_a_silent_run_being_cancelled_ends_cancelled(db):
    now = [T0]
    run = _running_run(db, T0)
    with db.session(write=True) as session:
        flow_runs.cancel(session, run.id, T0)
    lazarus = _lazarus(db, now)  # up since the run started
    now[0] += 31
    assert lazarus.run_once() == 1
    assert _runs(db)[0].state_type is StateType.CANCELLED


def test_lazarus_judges_no_silence_until_it_has_watched_a_full_timeout(db):
    # The server was down: the run's last heartbeat is long gone when lazarus starts.
    run = _running_run(db, T0)
    now = [T0 + 600]
    lazarus = _lazarus(db, now)
    now[0] += 29
    assert lazarus.run_once() == 0  # its process may be alive and about to be heard
    with db.session(write=True) as session:
        flow_runs.heartbeat(session, run.id, now[0])
    now[0] += 29
    assert lazarus.run_once() == 0
    now[0] += 2  # a full timeout watched, and the last heartbeat 31 s ago
    assert lazarus.run_once() == 1
    assert _runs(db)[0].state_type is StateType.SCHEDULED


def test_lazarus_watches_a_full_timeout_again_after_a_pass_the_database_failed(db, monkeypatch):
    from sqlalchemy.exc import OperationalError

    run = _running_run(db, T0)
    now = [T0]
    lazarus = _lazarus(db, now)
    now[0] += 20

    def unavailable(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("the database is gone"))

    with monkeypatch.context() as patched:
        patched.setattr(lazarus.db, "session", unavailable)
        with pytest.raises(OperationalError):
            lazarus.run_once()
    # Back 40 s later: heartbeats could not be written meanwhile, so none is judged yet.
    now[0] += 40
    assert lazarus.run_once() == 0
    with db.session(write=True) as session:
        flow_runs.heartbeat(session, run.id, now[0] + 5)
    now[0] += 29
    assert lazarus.run_once() == 0
    now[0] += 31
    assert lazarus.run_once() == 1


def test_lazarus_hands_back_a_submitted_run_only_after_watching_too(db):
    from weir.server.models import work

    flow = _register(db, schedule=None)
    with db.session(write=True) as session:
        flow_runs.create(session, actions.FlowRunCreate(flow_id=flow.id), T0)
        work.claim(session, [], 10, T0)
    now = [T0 + 100]
    lazarus = _lazarus(db, now)
    assert lazarus.run_once() == 0
    now[0] += 21
    assert lazarus.run_once() == 1


def test_a_run_failed_by_lazarus_has_its_open_task_runs_closed(db):
    from weir.server.models import task_runs

    now = [T0]
    run = _running_run(db, T0)
    lazarus = _lazarus(db, now, max_reschedules=0)
    items = [
        actions.TaskRunUpsert(
            flow_run_id=run.id, task_slug=slug, states=[StateData(type=t) for t in kinds]
        )
        for slug, kinds in {
            "done": [StateType.RUNNING, StateType.SUCCESS],
            "going": [StateType.RUNNING],
        }.items()
    ]
    with db.session(write=True) as session:
        task_runs.upsert(session, items, T0)
    now[0] += 31
    assert lazarus.run_once() == 1
    with db.session() as session:
        listed = {t.task_slug: t for t in task_runs.list_for_run(session, run.id, 10, 0)}
    assert listed["done"].state.type is StateType.SUCCESS
    assert listed["going"].state.type is StateType.FAILED
    assert "no heartbeat for 31 s" in (listed["going"].state.message or "")
