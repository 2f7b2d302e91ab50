"""Clawing back top-ups after confirmed fraud, on both backends: the exact amounts on small
worked cases (a piece-rate rise and a floor top-up), idempotence, the log entry, the
statements, and that settling afterwards never pays the clawed amount again."""

from __future__ import annotations

import io
import json

import pytest
from people import register as _user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datacoop.clock import FixedClock
from datacoop.disclosure import services as disclosure
from datacoop.errors import Conflict
from datacoop.log.models import LogEntry
from datacoop.members.models import Role
from datacoop.pay import appeals, postings, rules, settlement, statements
from datacoop.pay import services as pay
from datacoop.pay.models import AccountKind, Posting
from datacoop.pay.money import Money
from datacoop.projects import services as projects
from datacoop.work import services as work

DAY = 86_400


class World:
    def __init__(self, session: Session, pay_per_item: int) -> None:
        self.s = session
        self.clock = FixedClock()
        self.requester = _user(session, self.clock, Role.requester)
        self.steward = _user(session, self.clock, Role.steward)
        self.w = _user(session, self.clock)  # the member whose second answer was fraud
        self.o = _user(session, self.clock)  # an honest co-worker
        self.project = projects.create_project(
            session,
            self.clock,
            self.requester,
            {
                "title": "t",
                "task_type": "single_choice",
                "labels": ["a", "b"],
                "overlap": 1,
                "pay_per_item": pay_per_item,
                "estimated_seconds": 60,
                "lease_seconds": 600,
            },
        )
        rows = "".join(f"i{i},x\n" for i in range(4))
        projects.import_items(
            session,
            self.clock,
            self.requester,
            self.project,
            io.BytesIO(f"id,text\n{rows}".encode()),
            fmt="csv",
        )
        pay.fund(session, self.clock, self.requester, self.project, Money(10_000, "USD"))
        pay.launch(session, self.clock, self.requester, self.project)

    def task(self, who, seconds: int) -> int:
        a = work.next_task(self.s, self.clock, who, self.project)
        assert a is not None
        for _ in range(seconds // 10):
            self.clock.advance(10)
            work.heartbeat(self.s, self.clock, who, a.id)
        return work.submit(self.s, self.clock, who, answer="a", assignment_id=a.id).submission.id

    def settle(self) -> settlement.Settlement:
        return settlement.settle(self.s, self.clock, self.requester, self.project)

    def confirm_fraud(self, submission_id: int):
        r = appeals.reject(
            self.s,
            self.clock,
            self.requester,
            submission_id,
            reason="suspected_fraud",
            evidence="five minutes of idle heartbeats",
        )
        self.clock.advance(15 * DAY)  # past the 14-day appeal window
        return appeals.decide(
            self.s, self.clock, self.steward, r.id, outcome="fraud_confirmed", note="confirmed"
        )

    def earnings(self, who) -> statements.EarningsStatement:
        return statements.earnings(self.s, self.clock, who, self.project)

    def postings(self) -> int:
        return int(self.s.scalar(select(func.count()).select_from(Posting)) or 0)

    def ledger_balances(self) -> None:
        assert all(v == 0 for v in postings.totals(self.s).values())


def test_the_rate_rise_fraud_caused_is_clawed_back_and_never_repaid(engine):
    """pay_per_item 1.00, estimate 60 s, floor 15.00/h. W works 60 s (honest) and 300 s
    (fraud), O 120 s. Median 120 s: the rate rises to 2.00. W is paid 2 pieces (2.00) and a
    top-up to 2 × 2.00 = 4.00 (the floor asks only 1.50): 2.00. O: 1.00 + 1.00 = 2.00.

    Fraud confirmed: the piece (1.00) is withheld, paid = 3.00. Without the fraudulent
    300 s the median is 90 s and the rate 1.50; honest work justifies max(floor on 60 s =
    0.25, 1 × 1.50, kept piece 1.00) = 1.50, so 3.00 − 1.50 = 1.50 of the 2.00 top-up is
    clawed back. O keeps the rise (a rate that falls takes nothing from honest members)."""
    with Session(engine) as s:
        world = World(s, pay_per_item=100)
        honest = world.task(world.w, 60)
        fraud = world.task(world.w, 300)
        world.task(world.o, 120)
        first = world.settle()
        by = {m.member_id: m for m in first.members}
        assert (by[world.w.id].piece, by[world.w.id].top_up) == (200, 200)
        assert (by[world.o.id].piece, by[world.o.id].top_up) == (100, 100)

        before = world.postings()
        rejection = world.confirm_fraud(fraud)
        assert (rejection.withheld, rejection.clawed_back) == (100, 150)
        assert world.postings() == before + 2  # one withhold, one clawback
        claw = s.scalars(select(Posting).where(Posting.kind == pay.CLAWBACK)).one()
        assert claw.key == f"clawback:rejection:{rejection.id}"
        world.ledger_balances()

        e = world.earnings(world.w)
        assert (e.piece_pay, e.top_ups, e.total_paid) == (100, 50, 150)
        assert (e.withheld, e.clawed_back, e.payable_balance) == (100, 150, 150)
        assert e.total_paid >= rules.floor_pay(e.floor_hourly, e.active_ms)
        assert e.active_ms == 60_000  # the fraudulent 300 s no longer count
        assert world.earnings(world.o).total_paid == 200
        # The public totals count what members keep, not what fraud once drew.
        public = disclosure._paid_by_member(s)
        assert (public[(world.w.id, "USD")], public[(world.o.id, "USD")]) == (150, 200)
        cost = statements.cost(s, world.clock, world.requester, world.project)
        assert (cost.piece_pay, cost.top_ups, cost.withheld, cost.clawed_back) == (
            200,
            150,
            100,
            150,
        )
        assert cost.piece_rate == 150
        assert (
            cost.escrow
            == cost.deposited - cost.refunded - cost.piece_pay - cost.top_ups - cost.fees
        )

        # The log entry carries both amounts.
        entry = s.scalars(select(LogEntry).order_by(LogEntry.index.desc()).limit(1)).one()
        payload = json.loads(entry.payload)
        assert payload["kind"] == "rejection:decided"
        assert (payload["withheld"], payload["clawed_back"]) == (100, 150)
        assert payload["outcome"] == "fraud_confirmed"

        # Settling again posts nothing: the clawed amount is not topped up again.
        again = world.settle()
        assert again.postings == [] and world.postings() == before + 2
        # Idempotent: a second decision is refused, and the clawback finds nothing more due.
        with pytest.raises(Conflict) as caught:
            appeals.decide(
                s, world.clock, world.steward, rejection.id, outcome="fraud_confirmed", note="x"
            )
        assert caught.value.code == "already_decided"
        assert appeals._claw_back(s, world.clock, rejection) == 0
        assert world.postings() == before + 2
        assert honest  # the honest answer keeps its piece
        s.rollback()


def test_the_floor_top_up_on_fraudulent_time_is_clawed_back_honest_time_stays_paid(engine):
    """pay_per_item 0.10: W 60 s honest + 300 s fraud, O 120 s. The rate rises to 0.20 but
    the floor dominates: W is topped up to 1.50 (6 minutes), O to 0.50. After fraud W's
    honest minute justifies max(0.25, 1 × 0.15, 0.10) = 0.25: of 1.40 paid, 1.15 is clawed.
    Then W works another honest minute: the next settlement pays just that minute."""
    with Session(engine) as s:
        world = World(s, pay_per_item=10)
        world.task(world.w, 60)
        fraud = world.task(world.w, 300)
        world.task(world.o, 120)
        world.settle()
        assert world.earnings(world.w).total_paid == 150
        rejection = world.confirm_fraud(fraud)
        assert (rejection.withheld, rejection.clawed_back) == (10, 115)
        e = world.earnings(world.w)
        assert (e.piece_pay, e.top_ups, e.total_paid, e.clawed_back) == (10, 15, 25, 115)
        assert world.earnings(world.o).total_paid == 50
        assert world.settle().postings == []

        world.task(world.w, 60)  # honest work after the decision is paid as ever
        world.settle()
        e = world.earnings(world.w)
        assert e.active_ms == 120_000
        assert e.total_paid == 50 == rules.floor_pay(e.floor_hourly, e.active_ms)
        world.ledger_balances()
        s.rollback()


def test_fraud_confirmed_before_any_settlement_claws_back_nothing(engine):
    with Session(engine) as s:
        world = World(s, pay_per_item=10)
        world.task(world.w, 60)
        fraud = world.task(world.w, 300)
        rejection = world.confirm_fraud(fraud)
        assert (rejection.withheld, rejection.clawed_back) == (0, 0)
        assert s.scalar(select(func.count()).where(Posting.kind == pay.CLAWBACK)) == 0
        world.settle()
        e = world.earnings(world.w)
        assert (e.piece_pay, e.total_paid, e.active_ms) == (10, 25, 60_000)  # the honest minute
        s.rollback()


def test_a_clawback_after_a_payout_leaves_the_balance_below_zero_and_later_pay_makes_it_up(
    engine,
):
    from datacoop.payouts import services as payouts

    with Session(engine) as s:
        world = World(s, pay_per_item=10)
        world.task(world.w, 60)
        fraud = world.task(world.w, 300)
        world.settle()
        payouts.set_method(
            s,
            world.clock,
            world.w,
            "sepa",
            {"account_holder": "W", "iban": "DE89370400440532013000"},
        )
        batch, _ = payouts.create_batch(s, world.clock, world.steward, "USD")
        payouts.mark_paid(s, world.clock, world.steward, batch.id)
        assert batch.total == 150
        rejection = world.confirm_fraud(fraud)
        assert rejection.withheld + rejection.clawed_back == 125  # keeps the honest 0.25
        owed = postings.balance_of(s, AccountKind.payable, "USD", member_id=world.w.id)
        assert owed.amount == -125  # nothing is claimed back from outside the platform
        with pytest.raises(Conflict):  # and no batch pays a balance below zero
            payouts.create_batch(s, world.clock, world.steward, "USD")
        world.ledger_balances()
        s.rollback()
