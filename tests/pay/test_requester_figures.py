"""Requester figures on the dashboard, on both backends: ``reviews.summaries`` for many
requesters equals ``reviews.summary`` of each, in a fixed number of statements however many
requesters there are; effective hourly and days to payment are the figures of the
requester's last settlement (or fraud decision), and anything from fewer than 3 people is
withheld."""

from __future__ import annotations

import io

import pytest
from people import register as _user
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from datacoop.clock import FixedClock
from datacoop.errors import NotFound
from datacoop.members.models import Member, Role
from datacoop.pay import appeals, reviews, settlement
from datacoop.pay import services as pay
from datacoop.pay.models import RequesterFigures
from datacoop.pay.money import Money
from datacoop.projects import services as projects
from datacoop.projects.models import Project
from datacoop.work import services as work

DAY = 86_400
HIDDEN = "fewer than 3 — hidden"


def _project(s: Session, clock: FixedClock, owner: Member, items: int = 6) -> Project:
    project = projects.create_project(
        s,
        clock,
        owner,
        {
            "title": "t",
            "task_type": "single_choice",
            "labels": ["a", "b"],
            "overlap": 1,
            "pay_per_item": 25,
            "estimated_seconds": 60,
            "lease_seconds": 600,
        },
    )
    rows = "".join(f"i{i},x\n" for i in range(items))
    projects.import_items(
        s, clock, owner, project, io.BytesIO(f"id,text\n{rows}".encode()), fmt="csv"
    )
    pay.fund(s, clock, owner, project, Money(10_000, "USD"))
    pay.launch(s, clock, owner, project)
    return project


def _task(s: Session, clock: FixedClock, who: Member, project: Project, seconds: int) -> int:
    a = work.next_task(s, clock, who, project)
    assert a is not None
    for _ in range(seconds // 10):
        clock.advance(10)
        work.heartbeat(s, clock, who, a.id)
    return work.submit(s, clock, who, answer="a", assignment_id=a.id).submission.id


def _rate(s: Session, clock: FixedClock, who: Member, requester: Member, score: int) -> None:
    ratings = dict.fromkeys(reviews.DIMENSIONS, score)
    reviews.review(s, clock, who, requester.id, ratings)


def _figures(s: Session, requester: Member) -> RequesterFigures | None:
    return s.get(RequesterFigures, requester.id, populate_existing=True)


def test_summaries_of_many_requesters_equal_each_summary(engine):
    """Three requesters with different data (3 workers and reviews, 2 workers, never
    settled), plus ids that are not requesters: one call, the same summaries."""
    clock = FixedClock()
    with Session(engine) as s:
        steward = _user(s, clock, Role.steward)
        busy, small, unsettled = (_user(s, clock, Role.requester) for _ in range(3))
        workers = [_user(s, clock) for _ in range(3)]
        p_busy, p_small, p_unsettled = (_project(s, clock, r) for r in (busy, small, unsettled))
        for n, w in enumerate(workers):
            _task(s, clock, w, p_busy, 60 + 30 * n)
            _rate(s, clock, w, busy, 2 + n)
        for w in workers[:2]:
            _task(s, clock, w, p_small, 90)
        _task(s, clock, workers[0], p_unsettled, 60)
        clock.advance(2 * DAY)
        settlement.settle_project(s, clock, p_busy)
        clock.advance(DAY)
        settlement.settle_project(s, clock, p_small)
        rejected = _task(s, clock, workers[2], p_busy, 30)
        appeals.reject(s, clock, busy, rejected, reason="wrong_answer", evidence="gold is b")

        ids = [busy.id, small.id, unsettled.id, steward.id, workers[0].id, 10**9]
        found = reviews.summaries(s, clock, ids)
        assert set(found) == {busy.id, small.id, unsettled.id}
        for rid, one in found.items():
            assert reviews.summary(s, clock, rid) == one
        for not_a_requester in (steward.id, workers[0].id, 10**9):
            with pytest.raises(NotFound):
                reviews.summary(s, clock, not_a_requester)
        assert reviews.summaries(s, clock, []) == {}

        b = found[busy.id]
        assert b.reviews == 3
        assert {f.value for f in b.ratings.values()} == {3.0}
        # Median 90 s over a 60 s estimate: the piece rises to 0.38; the 120 s worker is
        # topped up to the floor (0.50): 1.26 for 270 s. The 30 s of the rejected task came
        # after the settlement and is not in its figures.
        assert b.effective_hourly.value == 126 * 3_600_000 // 270_000 == 1680
        assert b.effective_hourly.people == 3
        assert b.days_to_payment.value == 2.0 and b.days_to_payment.people == 3
        assert b.rejection_rate.value == 0.25 and b.rejection_rate.people == 3
        assert found[small.id].effective_hourly.reason == HIDDEN
        u = found[unsettled.id]
        assert (u.effective_hourly.reason, u.days_to_payment.reason) == ("none yet", "none yet")
        assert u.rejection_rate.reason == HIDDEN  # one member submitted
        assert u.reviews == 0 and u.ratings["fairness"].reason == "none yet"


def test_settled_figures_move_at_settlement_only(engine):
    clock = FixedClock()
    with Session(engine) as s:
        requester = _user(s, clock, Role.requester)
        workers = [_user(s, clock) for _ in range(3)]
        project = _project(s, clock, requester)
        for w in workers:
            _task(s, clock, w, project, 60)
        assert _figures(s, requester) is None
        clock.advance(DAY)
        settlement.settle_project(s, clock, project)
        first = _figures(s, requester)
        assert first is not None
        assert (first.paid_total, first.paid_members, first.active_ms) == (75, 3, 180_000)
        assert first.payment_people == 3 and first.computed_at == clock.now()
        assert reviews.summary(s, clock, requester.id).days_to_payment.value == 1.0

        # Three more minutes of work, paid 0.25 a piece (18.00/h is above the floor)...
        for w in workers:
            _task(s, clock, w, project, 50)
        clock.advance(DAY)
        shown = reviews.summary(s, clock, requester.id)
        assert (shown.effective_hourly.value, shown.days_to_payment.value) == (1500, 1.0)
        # ...shows only once settled.
        settlement.settle_project(s, clock, project)
        after = reviews.summary(s, clock, requester.id)
        assert after.effective_hourly.value == (75 + 75) * 3_600_000 // (180_000 + 150_000)
        assert after.days_to_payment.value == 1.0  # median of 3 × ~1.0 and 3 × ~1.0 days
        assert _figures(s, requester).payment_people == 3  # type: ignore[union-attr]


def test_a_confirmed_fraud_refreshes_the_figures(engine):
    clock = FixedClock()
    with Session(engine) as s:
        requester = _user(s, clock, Role.requester)
        steward = _user(s, clock, Role.steward)
        workers = [_user(s, clock) for _ in range(3)]
        project = _project(s, clock, requester)
        for w in workers:
            _task(s, clock, w, project, 60)
        fraud = _task(s, clock, workers[0], project, 300)
        clock.advance(DAY)
        settlement.settle_project(s, clock, project)
        before = _figures(s, requester)
        assert before is not None
        paid, active = before.paid_total, before.active_ms
        assert active == 480_000

        r = appeals.reject(s, clock, requester, fraud, reason="suspected_fraud", evidence="idle")
        clock.advance(15 * DAY)
        decided = appeals.decide(s, clock, steward, r.id, outcome="fraud_confirmed", note="x")
        after = _figures(s, requester)
        assert after is not None and after.computed_at == clock.now()
        assert after.active_ms == 180_000  # the fraudulent 300 s no longer count
        assert after.paid_total == paid - decided.withheld - decided.clawed_back
        assert decided.withheld == 25
        # The figures stored are the ones a fresh computation gives.
        fresh = reviews.refresh_figures(s, clock, requester.id)
        assert (fresh.paid_total, fresh.active_ms) == (after.paid_total, after.active_ms)


def test_figures_from_fewer_than_three_people_are_withheld(engine):
    clock = FixedClock()
    with Session(engine) as s:
        requester = _user(s, clock, Role.requester)
        workers = [_user(s, clock) for _ in range(3)]
        project = _project(s, clock, requester)
        for w in workers[:2]:
            _task(s, clock, w, project, 60)
            _rate(s, clock, w, requester, 4)
        clock.advance(DAY)
        settlement.settle_project(s, clock, project)
        two = reviews.summaries(s, clock, [requester.id])[requester.id]
        assert two.reviews == 2
        assert all(f.reason == HIDDEN and f.value is None for f in two.ratings.values())
        for f in (two.effective_hourly, two.days_to_payment, two.rejection_rate):
            assert (f.value, f.people, f.reason) == (None, 0, HIDDEN)
        # The figures are stored, only not shown: a third member makes them visible.
        assert _figures(s, requester).paid_members == 2  # type: ignore[union-attr]
        _task(s, clock, workers[2], project, 60)
        _rate(s, clock, workers[2], requester, 5)
        clock.advance(DAY)
        settlement.settle_project(s, clock, project)
        three = reviews.summaries(s, clock, [requester.id])[requester.id]
        assert three.ratings["fairness"].value == round(13 / 3, 2)
        assert three.effective_hourly.value == 1500
        assert three.days_to_payment.value == 1.0  # each piece paid about a day after
        assert three.rejection_rate.value == 0.0


def test_review_figures_take_the_same_statements_for_any_number_of_requesters(engine):
    """What the dashboard calls: statements counted with a cursor listener. One requester
    or five (with reviews, settlements and rejections each), the same number."""
    clock = FixedClock()
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with Session(engine) as s:
        requesters = [_user(s, clock, Role.requester) for _ in range(5)]
        workers = [_user(s, clock) for _ in range(3)]
        for r in requesters:
            project = _project(s, clock, r, items=4)
            for w in workers:
                sub = _task(s, clock, w, project, 60)
                _rate(s, clock, w, r, 3)
            appeals.reject(s, clock, r, sub, reason="wrong_answer", evidence="gold is b")
            clock.advance(DAY)
            settlement.settle_project(s, clock, project)
        s.flush()
        ids = [r.id for r in requesters]
        used = []
        event.listen(engine, "before_cursor_execute", count)
        try:
            for n in (1, 2, 5):
                statements.clear()
                found = reviews.summaries(s, clock, ids[:n])
                assert len(found) == n
                assert all(v.effective_hourly.shown for v in found.values())
                used.append(len(statements))
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert used[0] == used[1] == used[2] <= 6, used


def test_figures_settled_in_another_currency_are_not_shown(engine):
    """Figures settled in another currency than the policy's are not shown as today's."""
    clock = FixedClock()
    with Session(engine) as s:
        requester = _user(s, clock, Role.requester)
        workers = [_user(s, clock) for _ in range(3)]
        project = _project(s, clock, requester)
        for w in workers:
            _task(s, clock, w, project, 60)
        clock.advance(DAY)
        settlement.settle_project(s, clock, project)
        row = _figures(s, requester)
        assert row is not None
        row.currency = "EUR"
        s.flush()
        shown = reviews.summary(s, clock, requester.id)
        assert shown.effective_hourly.reason == "none yet"
        assert shown.days_to_payment.reason == "none yet"
        assert s.scalar(select(func.count()).select_from(RequesterFigures)) == 1
