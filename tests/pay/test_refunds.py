"""Refunds and closing, at the service level, on both backends: a refund settles first and
returns only the escrow beyond what the work still owed needs; closing stops new tasks and
frees the money of tasks never handed out; the periodic settlement settles every project
due; two refunds at once move the money once."""

from __future__ import annotations

import io
import threading
import time

import pytest
from people import register as _user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datacoop.db.uow import UnitOfWork
from datacoop.errors import Conflict, PermissionDenied
from datacoop.members.models import Member, Role
from datacoop.pay import postings, refunds, settlement, statements
from datacoop.pay import services as pay
from datacoop.pay.models import AccountKind, FundingState, Posting
from datacoop.pay.money import Money
from datacoop.projects import services as projects
from datacoop.projects.models import Project
from datacoop.work import services as work

# 10 cents a piece, estimated at 60 s: a task is worth 25 cents at the 15.00/h floor, plus
# the 15% fee rounded up = 29 cents reserved per task; 3 items × overlap 2 = 6 tasks.
SPEC = {
    "title": "Colours",
    "task_type": "single_choice",
    "labels": ["a", "b"],
    "overlap": 2,
    "pay_per_item": 10,
    "estimated_seconds": 60,
    "lease_seconds": 600,
}


def _project(session, clock, requester, items=3, **spec) -> Project:
    project = projects.create_project(session, clock, requester, {**SPEC, **spec})
    rows = "".join(f"i{i},x\n" for i in range(items))
    projects.import_items(
        session, clock, requester, project, io.BytesIO(f"id,text\n{rows}".encode()), fmt="csv"
    )
    return project


def _lease(session, clock, who, project, seconds):
    """Take a task and send a heartbeat every 10 s for ``seconds``; the lease stays open."""
    a = work.next_task(session, clock, who, project)
    assert a is not None
    for _ in range(seconds // 10):
        clock.advance(10)
        work.heartbeat(session, clock, who, a.id)
    return a


def _work(session, clock, who, project, seconds):
    a = _lease(session, clock, who, project, seconds)
    work.submit(session, clock, who, answer="a", assignment_id=a.id)


def _escrow(session, project) -> int:
    return postings.balance_of(session, AccountKind.escrow, "USD", project_id=project.id).amount


def _funding(session, requester) -> int:
    return postings.balance_of(session, AccountKind.funding, "USD", member_id=requester.id).amount


def _conserved(session) -> None:
    assert set(postings.totals(session).values()) <= {0}


@pytest.fixture
def world(engine, clock):
    with Session(engine) as session:
        requester = _user(session, clock, Role.requester)
        project = _project(session, clock, requester)
        pay.fund(session, clock, requester, project, Money(500, "USD"))
        pay.launch(session, clock, requester, project)
        yield session, requester, project
        session.rollback()


def test_the_worked_example_refund_close_refund_finish_refund(world, clock):
    session, requester, project = world
    a, b = _user(session, clock), _user(session, clock)
    _work(session, clock, a, project, 120)  # two minutes on a one-minute task
    lease = _lease(session, clock, b, project, 30)  # still open during the refunds

    # The refund settles first: a's piece 0.10 is topped up to 0.50 (the floor on 120 s;
    # the risen rate asks only 0.20), fees 0.01 + 0.06: 5.00 − 0.57 = 4.43 in escrow. Still
    # owed: 4 tasks not handed out + 1 open lease = 5 × 0.29 = 1.45; 2.98 goes back.
    r = refunds.refund(session, clock, requester, project)
    assert (r.amount, r.kept, r.escrow_after, r.state) == (298, 145, 145, "launched")
    assert (r.settlement.piece_total, r.settlement.top_up_total, r.settlement.fee_total) == (
        10,
        40,
        7,
    )
    assert _escrow(session, project) == 145 and _funding(session, requester) == -500 + 298
    pp = pay.get_project_pay(session, project.id)
    assert (pp.reserved_tasks, pp.funded_tasks) == (2, 6)  # the 4 tasks left stay funded

    # Closing frees the tasks never handed out; the open lease keeps its 0.29.
    status = pay.close(session, clock, requester, project)
    assert (status.state, status.tasks_needed, status.required) == ("closed", 1, 29)
    assert pay.close(session, clock, requester, project) == status  # idempotent
    r = refunds.refund(session, clock, requester, project)
    assert (r.amount, r.kept, r.escrow_after, r.state) == (116, 29, 29, "closed")
    newcomer = _user(session, clock)
    with pytest.raises(Conflict) as refused, session.begin_nested():  # as a request rolls back
        work.next_task(session, clock, newcomer, project)
    assert refused.value.code == "project_closed"
    with pytest.raises(Conflict) as refused:
        pay.launch(session, clock, requester, project)
    assert refused.value.code == "project_closed"

    # The open lease is finished after closing and paid: piece 0.10, and the median (75 s)
    # raises the rate to 0.13, so a top-up of 0.03; fee 0.01. The last 0.15 goes back.
    work.submit(session, clock, b, answer="a", assignment_id=lease.id)
    r = refunds.refund(session, clock, requester, project)
    assert (r.settlement.piece_total, r.settlement.top_up_total, r.settlement.fee_total) == (
        10,
        3,
        1,
    )
    assert (r.amount, r.kept, r.escrow_after) == (15, 0, 0)
    with pytest.raises(Conflict) as refused:
        refunds.refund(session, clock, requester, project)
    assert refused.value.code == "nothing_to_refund"
    assert refused.value.details == {"escrow": 0, "required": 0, "currency": "USD"}

    cost = statements.cost(session, clock, requester, project)
    assert (cost.deposited, cost.refunded, cost.piece_pay, cost.top_ups, cost.fees) == (
        500,
        429,
        20,
        43,
        8,
    )
    assert cost.escrow == cost.deposited - cost.refunded - cost.piece_pay - cost.top_ups - (
        cost.fees
    )
    for who, paid in ((a, 50), (b, 13)):
        assert statements.earnings(session, clock, who, project).total_paid == paid
    assert _funding(session, requester) == -500 + 429
    _conserved(session)
    kinds = session.scalars(select(Posting.kind).order_by(Posting.id)).all()
    assert kinds == ["deposit", "piece", "top_up", "refund", "refund", "piece", "top_up", "refund"]


def test_nothing_to_refund_when_the_escrow_only_covers_the_work(world, clock):
    session, requester, project = world
    refunds.refund(session, clock, requester, project)  # 5.00 − 1.74 back
    before = session.scalar(select(func.count()).select_from(Posting))
    with pytest.raises(Conflict) as refused:
        refunds.refund(session, clock, requester, project)
    assert refused.value.code == "nothing_to_refund"
    assert refused.value.message == (
        "nothing to refund: the escrow holds 1.74 USD and the work still owed needs 1.74 USD"
    )
    assert session.scalar(select(func.count()).select_from(Posting)) == before


def test_only_the_requester_may_refund_or_close(world, clock):
    session, requester, project = world
    other = _user(session, clock, Role.requester)
    for action in (refunds.refund, pay.close):
        with pytest.raises(PermissionDenied):
            action(session, clock, other, project)
    assert pay.get_project_pay(session, project.id).state is FundingState.launched
    assert _escrow(session, project) == 500


def test_a_project_without_pay_has_nothing_to_refund_or_close(engine, clock):
    with Session(engine) as session:
        requester = _user(session, clock, Role.requester)
        project = _project(session, clock, requester)
        for action in (refunds.refund, pay.close):
            with pytest.raises(Conflict) as refused:
                action(session, clock, requester, project)
            assert refused.value.code == "pay_not_enabled"


def test_a_refund_never_leaves_members_unpaid(world, clock):
    session, requester, project = world
    a = _user(session, clock)
    # Skipped work is owed at the floor too: 10 minutes on a one-minute task.
    lease = _lease(session, clock, a, project, 600)
    work.skip(session, clock, a, lease.id)
    r = refunds.refund(session, clock, requester, project)
    assert r.settlement.top_up_total == 250  # 10 minutes at 15.00/h
    assert statements.earnings(session, clock, a, project).total_paid == 250
    # 5.00 − 2.50 − fee 0.37 = 2.13. A skipped item goes to someone else, so all 6 tasks
    # are still owed at 0.29 = 1.74, and 0.39 goes back.
    assert (r.amount, r.kept) == (39, 174)
    _conserved(session)


def test_a_short_escrow_refunds_nothing(engine, clock):
    with Session(engine) as session:
        requester = _user(session, clock, Role.requester)
        project = _project(session, clock, requester, items=1, overlap=1)
        pay.fund(session, clock, requester, project, Money(29, "USD"))
        pay.launch(session, clock, requester, project)
        _work(session, clock, _user(session, clock), project, 600)
        pay.close(session, clock, requester, project)
        with pytest.raises(Conflict) as refused:
            refunds.refund(session, clock, requester, project)
        assert refused.value.code == "nothing_to_refund"
        assert _escrow(session, project) == 29 - 250  # members paid; the requester owes
        # A closed project can still be funded, to pay what it owes.
        pay.fund(session, clock, requester, project, Money(300, "USD"))
        assert refunds.refund(session, clock, requester, project).amount == 300 - 221
        _conserved(session)


def test_a_draft_project_refunds_what_is_beyond_launch_and_all_once_closed(engine, clock):
    with Session(engine) as session:
        requester = _user(session, clock, Role.requester)
        project = _project(session, clock, requester)
        pay.fund(session, clock, requester, project, Money(200, "USD"))
        assert refunds.refund(session, clock, requester, project).amount == 200 - 174
        pay.close(session, clock, requester, project)
        r = refunds.refund(session, clock, requester, project)
        assert (r.amount, r.escrow_after, r.state) == (174, 0, "closed")
        assert _funding(session, requester) == 0


def test_settle_all_settles_every_project_past_draft(engine, clock):
    with Session(engine) as session:
        requester = _user(session, clock, Role.requester)
        launched = _project(session, clock, requester)
        draft = _project(session, clock, requester)
        closed = _project(session, clock, requester)
        _project(session, clock, requester)  # no pay at all
        for p in (launched, draft, closed):
            pay.fund(session, clock, requester, p, Money(500, "USD"))
        pay.launch(session, clock, requester, launched)
        pay.launch(session, clock, requester, closed)
        w = _user(session, clock)
        _work(session, clock, w, launched, 60)
        lease = _lease(session, clock, w, closed, 60)
        pay.close(session, clock, requester, closed)
        work.submit(session, clock, w, answer="a", assignment_id=lease.id)
        assert [p.id for p in pay.due_for_settlement(session)] == [launched.id, closed.id]
        done = settlement.settle_all(session, clock)
        assert [(s.project_id, s.piece_total, s.top_up_total) for s in done] == [
            (launched.id, 10, 15),
            (closed.id, 10, 15),
        ]
        assert [s.postings for s in settlement.settle_all(session, clock)] == [[], []]
        _conserved(session)


def _seed_for_race(engine, clock) -> tuple[int, int]:
    with UnitOfWork(engine) as session:
        requester = _user(session, clock, Role.requester)
        project = _project(session, clock, requester)
        pay.fund(session, clock, requester, project, Money(500, "USD"))
        pay.launch(session, clock, requester, project)
        return requester.id, project.id


def _race(n: int, action) -> tuple[list[object], list[BaseException]]:
    barrier = threading.Barrier(n)
    outcomes: list[object] = []
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            try:
                outcomes.append(action(i))
            except Conflict as exc:
                outcomes.append(exc.code)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes, errors


def test_two_refunds_at_once_move_the_money_once(engine, clock):
    requester_id, project_id = _seed_for_race(engine, clock)

    def refund(_: int) -> object:
        with UnitOfWork(engine) as s:
            r = refunds.refund(s, clock, s.get(Member, requester_id), s.get(Project, project_id))
            return r.amount

    outcomes, errors = _race(2, refund)
    assert errors == []
    assert sorted(outcomes, key=str) == [326, "nothing_to_refund"]
    with UnitOfWork(engine) as s:
        assert s.scalar(select(func.count()).where(Posting.kind == pay.REFUND)) == 1
        assert _escrow(s, s.get(Project, project_id)) == 174
        _conserved(s)


def test_a_refund_racing_hand_outs_never_takes_a_reserved_tasks_money(engine, clock):
    requester_id, project_id = _seed_for_race(engine, clock)
    with UnitOfWork(engine) as s:
        workers = [_user(s, clock).id for _ in range(4)]

    def act(i: int) -> object:
        with UnitOfWork(engine) as s:
            project = s.get(Project, project_id)
            if i == 0:
                pay.close(s, clock, s.get(Member, requester_id), project)
                return refunds.refund(s, clock, s.get(Member, requester_id), project).amount
            a = work.next_task(s, clock, s.get(Member, workers[i - 1]), project)
            return "leased" if a is not None else "none"

    outcomes, errors = _race(5, act)
    assert errors == []
    leased = outcomes.count("leased")
    # "none": on PostgreSQL a hand-out may find every candidate item taken by concurrent
    # leases (that then rolled back) and answer 204; that is the work loop's business.
    assert leased + outcomes.count("project_closed") + outcomes.count("none") == 4
    assert outcomes.count(500 - 29 * leased) == 1  # the refund
    with UnitOfWork(engine) as s:
        project = s.get(Project, project_id)
        status = pay.funding_status(s, project)
        # Whatever won the row first, the escrow keeps exactly the leases' reservations.
        assert status.tasks_needed == leased
        assert _escrow(s, project) == 29 * leased
        assert _funding(s, s.get(Member, requester_id)) == -29 * leased  # the rest came back
        _conserved(s)


def test_a_refund_waits_for_a_hand_out_in_flight_and_keeps_its_reservation(engine, clock):
    requester_id, project_id = _seed_for_race(engine, clock)
    with UnitOfWork(engine) as s:
        worker_id = _user(s, clock).id
    leased = threading.Event()
    errors: list[BaseException] = []

    def hand_out() -> None:
        try:
            with UnitOfWork(engine) as s:
                assert work.next_task(
                    s, clock, s.get(Member, worker_id), s.get(Project, project_id)
                )
                leased.set()  # reserved, not yet committed: the project's pay row is locked
                time.sleep(0.5)
        except BaseException as exc:  # pragma: no cover - reported below
            leased.set()
            errors.append(exc)

    thread = threading.Thread(target=hand_out)
    thread.start()
    leased.wait()
    with UnitOfWork(engine) as s:
        requester, project = s.get(Member, requester_id), s.get(Project, project_id)
        pay.close(s, clock, requester, project)
        r = refunds.refund(s, clock, requester, project)
    thread.join()
    assert errors == []
    # The lease committed first, so the refund saw it: its 0.29 stays in escrow.
    assert (r.amount, r.kept, r.state) == (500 - 29, 29, "closed")
