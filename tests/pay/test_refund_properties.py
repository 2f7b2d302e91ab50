"""Property test of refunds and closing, on both backends: for random deposits, work,
settlements, refunds and a close, every account together sums to zero, a refund never
takes the escrow below what the work still owed needs (so, when it is made, the refunds so
far never exceed deposits − piece pay − top-ups − fees), members are paid for all counted
work before any money goes back, and a closed project hands out nothing."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from people import register as _user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datacoop.clock import FixedClock
from datacoop.errors import Conflict
from datacoop.members.models import Role
from datacoop.pay import postings, refunds, rules, settlement, statements
from datacoop.pay import services as pay
from datacoop.pay.models import AccountKind
from datacoop.pay.money import Money
from datacoop.projects import services as projects
from datacoop.work import services as work
from datacoop.work.models import Assignment

N_MEMBERS = 3

spec = st.fixed_dictionaries(
    {
        "pay_per_item": st.integers(0, 60),
        "estimated_seconds": st.integers(5, 120),
        "overlap": st.integers(1, 2),
        "items": st.integers(1, 3),
        "extra": st.sampled_from([0, 1, 50, 300, 300]),
    }
)
step = st.one_of(
    st.tuples(
        st.just("task"),
        st.integers(0, N_MEMBERS - 1),
        st.lists(st.integers(1, 40), max_size=6),
        st.sampled_from(["submit", "skip", "abandon"]),
    ),
    st.tuples(st.just("wait"), st.integers(1, 900)),
    st.tuples(st.just("fund"), st.integers(1, 500)),
    st.tuples(st.just("settle")),
    st.tuples(st.just("settle_all")),
    st.tuples(st.just("refund")),
    st.tuples(st.just("refund")),
    st.tuples(st.just("close")),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=spec, steps=st.lists(step, min_size=4, max_size=25))
def test_refunds_conserve_money_and_never_take_what_work_needs(engine, spec, steps):
    clock = FixedClock()
    with Session(engine) as session:
        requester = _user(session, clock, Role.requester)
        workers = [_user(session, clock) for _ in range(N_MEMBERS)]
        project = projects.create_project(
            session,
            clock,
            requester,
            {
                "title": "t",
                "task_type": "single_choice",
                "labels": ["a", "b"],
                "overlap": spec["overlap"],
                "pay_per_item": spec["pay_per_item"],
                "estimated_seconds": spec["estimated_seconds"],
                "lease_seconds": 300,
            },
        )
        rows = "".join(f"i{i},x\n" for i in range(spec["items"]))
        projects.import_items(
            session, clock, requester, project, io.BytesIO(f"id,text\n{rows}".encode()), fmt="csv"
        )
        need = pay.funding_status(session, project).required
        pay.fund(session, clock, requester, project, Money(need + spec["extra"], "USD"))
        pay.launch(session, clock, requester, project)
        closed = False
        for op, *args in steps:
            if op == "wait":
                clock.advance(args[0])
                continue
            try:
                with session.begin_nested():  # what the unit of work would roll back
                    done = _apply(session, clock, op, args, project, requester, workers)
            except Conflict as exc:
                event(f"refused: {exc.code}")
                assert not (closed and op == "task") or exc.code == "project_closed"
                continue
            if op == "close":
                closed = True
            if op == "refund":
                assert isinstance(done, refunds.Refund)
                _check_refund(session, clock, requester, project, workers, done)
            assert set(postings.totals(session).values()) <= {0}
            pp = pay.get_project_pay(session, project.id)
            leases = session.scalar(select(func.count()).where(Assignment.project_id == project.id))
            assert leases == pp.reserved_tasks <= pp.funded_tasks
        cost = statements.cost(session, clock, requester, project)
        assert cost.escrow == (
            cost.deposited - cost.refunded - cost.piece_pay - cost.top_ups - cost.fees
        )
        funding = postings.balance_of(
            session, AccountKind.funding, "USD", member_id=requester.id
        ).amount
        assert -funding == cost.deposited - cost.refunded
        event(f"refunded {bool(cost.refunded)}, closed {closed}")
        session.rollback()


def _check_refund(session, clock, requester, project, workers, r: refunds.Refund) -> None:
    assert r.amount > 0
    status = pay.funding_status(session, project)
    # The escrow keeps exactly what the work still owed needs, never less.
    assert r.escrow_after == r.kept == status.required == status.tasks_needed * status.task_cost
    cost = statements.cost(session, clock, requester, project)
    assert cost.refunded <= cost.deposited - cost.piece_pay - cost.top_ups - cost.fees
    # Members were paid for all counted work before the money went back.
    floor = pay.current_policy(session).floor_hourly
    for w in workers:
        e = statements.earnings(session, clock, w, project)
        assert e.total_paid >= rules.floor_pay(floor, e.active_ms)
        assert e.items_paid == e.items_submitted


def _apply(session, clock, op, args, project, requester, workers):
    if op == "fund":
        return pay.fund(session, clock, requester, project, Money(args[0], "USD"))
    if op == "settle":
        return settlement.settle(session, clock, requester, project)
    if op == "settle_all":
        return settlement.settle_all(session, clock)
    if op == "refund":
        return refunds.refund(session, clock, requester, project)
    if op == "close":
        return pay.close(session, clock, requester, project)
    who, gaps, outcome = workers[args[0]], args[1], args[2]
    a = work.next_task(session, clock, who, project)
    if a is None:
        return None
    for gap in gaps:
        clock.advance(gap)
        work.heartbeat(session, clock, who, a.id)
    if outcome == "submit":
        work.submit(session, clock, who, answer="a", assignment_id=a.id)
    elif outcome == "skip":
        work.skip(session, clock, who, a.id)
    return a
