"""Property test of the money core, on both backends: for random funding, assignments,
heartbeats, submissions, skips and settlements with random timings, every account together
sums to zero and every posting balances; after settlement no member is below the floor;
nothing is paid twice (settling again posts nothing, each submission is paid once); and a
task is never handed out without its pay reserved."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datacoop.clock import FixedClock
from datacoop.errors import Conflict
from datacoop.members import services as members
from datacoop.members.models import Role
from datacoop.members.passwords import make_hasher
from datacoop.pay import postings, rules, settlement, statements
from datacoop.pay import services as pay
from datacoop.pay.models import PiecePayment, Posting, PostingLine
from datacoop.pay.money import Money
from datacoop.projects import services as projects
from datacoop.work import services as work
from datacoop.work.models import Assignment, Submission

_emails = itertools.count()
HASHER = make_hasher(1, 8)
N_MEMBERS = 3

spec = st.fixed_dictionaries(
    {
        "pay_per_item": st.integers(0, 60),
        "estimated_seconds": st.integers(5, 120),
        "overlap": st.integers(1, 3),
        "items": st.integers(1, 4),
        "extra": st.sampled_from([0, 0, 1, 50, 300]),  # funded beyond what launch needs
    }
)
step = st.one_of(
    # A task: lease it, heartbeats after random gaps (over 30 s is not counted), then submit,
    # skip or walk away.
    st.tuples(
        st.just("task"),
        st.integers(0, N_MEMBERS - 1),
        st.lists(st.integers(1, 40), max_size=8),
        st.sampled_from(["submit", "skip", "abandon"]),
    ),
    st.tuples(st.just("wait"), st.integers(1, 900)),
    st.tuples(st.just("fund"), st.integers(1, 500)),
    st.tuples(st.just("settle")),
)


def _user(session, clock, role=Role.member):
    return members.register(
        session,
        clock,
        HASHER,
        email=f"prop{next(_emails)}@example.org",
        password="correct horse battery",
        display_name="someone",
        role=role,
    )


def _check_ledger(session: Session) -> None:
    assert all(total == 0 for total in postings.totals(session).values())
    unbalanced = session.execute(
        select(PostingLine.posting_id)
        .group_by(PostingLine.posting_id)
        .having(func.sum(PostingLine.amount) != 0)
    ).all()
    assert unbalanced == []


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=spec, steps=st.lists(step, max_size=30))
# Work far over the estimate drains the escrow: members are still paid, the project pauses.
@example(
    spec={"pay_per_item": 0, "estimated_seconds": 5, "overlap": 1, "items": 2, "extra": 0},
    steps=[("task", 0, [30] * 8, "submit"), ("settle",), ("task", 1, [10], "submit")],
)
def test_money_is_conserved_the_floor_holds_and_nothing_is_paid_twice(engine, spec, steps):
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
        import io

        rows = "".join(f"i{i},x\n" for i in range(spec["items"]))
        projects.import_items(
            session, clock, requester, project, io.BytesIO(f"id,text\n{rows}".encode()), fmt="csv"
        )
        need = pay.funding_status(session, project).required
        pay.fund(session, clock, requester, project, Money(need + spec["extra"], "USD"))
        pay.launch(session, clock, requester, project)
        for op, *args in steps:
            if op == "wait":
                clock.advance(args[0])
                continue
            try:
                with session.begin_nested():  # what the unit of work would roll back
                    _apply(session, clock, op, args, project, requester, workers)
            except Conflict as exc:
                event(f"refused: {exc.code}")
            _check_ledger(session)
            pp = pay.get_project_pay(session, project.id)
            leases = session.scalar(select(func.count()).where(Assignment.project_id == project.id))
            assert leases == pp.reserved_tasks <= pp.funded_tasks

        clock.advance(400)  # every lease is over: all measured time counts
        settlement.settle(session, clock, requester, project)
        _check_ledger(session)
        floor = pay.current_policy(session).floor_hourly
        for w in workers:
            e = statements.earnings(session, clock, w, project)
            assert e.total_paid >= rules.floor_pay(floor, e.active_ms)
            assert e.piece_pay == e.items_paid * spec["pay_per_item"]
        submitted = session.scalar(select(func.count()).where(Submission.project_id == project.id))
        paid = session.scalar(select(func.count()).where(PiecePayment.project_id == project.id))
        assert paid == submitted
        posts = session.scalar(select(func.count()).select_from(Posting))
        again = settlement.settle(session, clock, requester, project)
        assert again.postings == [] and again.members == []
        assert session.scalar(select(func.count()).select_from(Posting)) == posts
        cost = statements.cost(session, clock, requester, project)
        event(f"state {cost.state}, piece {bool(cost.piece_pay)}, top-ups {bool(cost.top_ups)}")
        assert cost.escrow == cost.deposited - cost.piece_pay - cost.top_ups - cost.fees
        session.rollback()


def _apply(session, clock, op, args, project, requester, workers):
    if op == "fund":
        pay.fund(session, clock, requester, project, Money(args[0], "USD"))
    elif op == "settle":
        settlement.settle(session, clock, requester, project)
    elif op == "task":
        who, gaps, outcome = workers[args[0]], args[1], args[2]
        a = work.next_task(session, clock, who, project)
        if a is None:
            return
        for gap in gaps:
            clock.advance(gap)
            work.heartbeat(session, clock, who, a.id)
        if outcome == "submit":
            work.submit(session, clock, who, answer="a", assignment_id=a.id)
        elif outcome == "skip":
            work.skip(session, clock, who, a.id)
