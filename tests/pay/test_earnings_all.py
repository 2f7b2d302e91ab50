"""``statements.earnings_all``, on both backends: every member's statements, built from a few
grouped queries, equal field by field the per-project statement and the original per-project
computation (one query per figure, through ``settlement``'s own functions), on seeded random
histories with settlements, skips, expired and live leases, confirmed fraud (withholdings and
clawbacks), payout batches and a second currency; and the earnings page runs as many SQL
statements for a member of five projects as for a member of two."""

from __future__ import annotations

import io
import random

import pytest
from page_helpers import log_in
from people import register as _user
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from datacoop.clock import FixedClock
from datacoop.errors import Conflict
from datacoop.members.models import Member, Role
from datacoop.pay import appeals, postings, settlement, statements
from datacoop.pay import services as pay
from datacoop.pay.models import AccountKind, PiecePayment, Rejection
from datacoop.pay.money import Money
from datacoop.payouts import services as payouts
from datacoop.projects import services as projects
from datacoop.projects.models import Project
from datacoop.work import services as work
from datacoop.work.models import Submission

DAY = 86_400
PASSWORD = "correct horse battery"


def _project(
    session: Session,
    clock: FixedClock,
    requester: Member,
    *,
    items: int,
    pay_per_item: int = 10,
    estimated_seconds: int = 30,
    currency: str = "USD",
    funded: bool = True,
) -> Project:
    project = projects.create_project(
        session,
        clock,
        requester,
        {
            "title": "t",
            "task_type": "single_choice",
            "labels": ["a", "b"],
            "overlap": 3,
            "pay_per_item": pay_per_item,
            "estimated_seconds": estimated_seconds,
            "lease_seconds": 300,
            "currency": currency,
        },
    )
    rows = "".join(f"i{i},x\n" for i in range(items))
    projects.import_items(
        session, clock, requester, project, io.BytesIO(f"id,text\n{rows}".encode()), fmt="csv"
    )
    if funded:
        pay.fund(session, clock, requester, project, Money(1_000_000, currency))
        pay.launch(session, clock, requester, project)
    return project


def _reference(
    session: Session, clock: FixedClock, member: Member, project: Project
) -> statements.EarningsStatement:
    """The statement as ``earnings`` computed it before ``earnings_all``: each figure by its
    own query, the member's pay picked from ``settlement.paid_by_member``'s per-project sums."""
    submitted = session.scalar(
        select(func.count()).where(
            Submission.project_id == project.id, Submission.member_id == member.id
        )
    )
    paid_items, piece = session.execute(
        select(func.count(), func.coalesce(func.sum(PiecePayment.amount), 0)).where(
            PiecePayment.project_id == project.id, PiecePayment.member_id == member.id
        )
    ).one()
    top_ups = settlement.paid_by_member(session, project.id, (pay.TOP_UP,)).get(member.id, 0)
    withheld = settlement.paid_by_member(session, project.id, (pay.WITHHOLD,)).get(member.id, 0)
    clawed = settlement.paid_by_member(session, project.id, (pay.CLAWBACK,)).get(member.id, 0)
    active = settlement.active_ms_by_member(session, project.id, clock.now()).get(member.id, 0)
    owed = postings.balance_of(session, AccountKind.payable, project.currency, member_id=member.id)
    return statements.EarningsStatement(
        project_id=project.id,
        member_id=member.id,
        currency=project.currency,
        items_submitted=int(submitted or 0),
        items_paid=int(paid_items),
        active_ms=active,
        piece_pay=int(piece) + withheld,
        top_ups=top_ups + clawed,
        floor_hourly=pay.current_policy(session).floor_hourly,
        withheld=-withheld,
        clawed_back=-clawed,
        payable_balance=owed.amount,
        payouts=statements.payouts_of(session, member.id, project.currency),
    )


class History:
    """A random history of three members in three paid projects and one unpaid project in
    another currency (whose pay is posted by hand: settlement pays the policy's currency)."""

    def __init__(self, session: Session, rng: random.Random) -> None:
        self.s, self.rng, self.clock = session, rng, FixedClock()
        self.requester = _user(session, self.clock, Role.requester)
        self.steward = _user(session, self.clock, Role.steward)
        self.workers = [_user(session, self.clock) for _ in range(3)]
        pay.set_policy(session, self.clock, self.steward, appeal_days=2)
        for w in self.workers[:2]:  # the third keeps their balance: no payout method
            payouts.set_method(
                session,
                self.clock,
                w,
                "sepa",
                {"account_holder": "W", "iban": "DE89370400440532013000"},
            )
        self.paid = [
            _project(
                session,
                self.clock,
                self.requester,
                items=6,
                pay_per_item=rng.choice([0, 5, 30]),
                estimated_seconds=rng.choice([10, 60]),
            )
            for _ in range(3)
        ]
        self.eur = _project(
            session, self.clock, self.requester, items=4, currency="EUR", funded=False
        )
        self.all = [*self.paid, self.eur]
        self.fraud = 0

    def task(self) -> None:
        who, project = self.rng.choice(self.workers), self.rng.choice(self.all)
        a = work.next_task(self.s, self.clock, who, project)
        if a is None:
            return
        for _ in range(self.rng.randint(0, 6)):
            self.clock.advance(self.rng.choice([5, 10, 20, 45]))  # over 30 s is not counted
            work.heartbeat(self.s, self.clock, who, a.id)
        outcome = self.rng.choice(["submit", "submit", "submit", "skip", "abandon"])
        if outcome == "submit":
            work.submit(self.s, self.clock, who, answer="a", assignment_id=a.id)
        elif outcome == "skip":
            work.skip(self.s, self.clock, who, a.id)

    def confirm_fraud(self) -> None:
        project = self.rng.choice(self.paid)
        settlement.settle(self.s, self.clock, self.requester, project)
        subs = list(
            self.s.scalars(
                select(Submission.id).where(
                    Submission.project_id == project.id,
                    ~select(Rejection.id).where(Rejection.submission_id == Submission.id).exists(),
                )
            )
        )
        if not subs:
            return
        r = appeals.reject(
            self.s,
            self.clock,
            self.requester,
            self.rng.choice(subs),
            reason="suspected_fraud",
            evidence="x",
        )
        self.clock.advance(3 * DAY)  # past the appeal window (and every lease)
        appeals.decide(self.s, self.clock, self.steward, r.id, outcome="fraud_confirmed", note="x")
        self.fraud += 1

    def live_leases(self) -> None:
        """Each member holds a live lease with measured time: not counted until it ends."""
        for who in self.workers:
            for project in self.all:
                a = work.next_task(self.s, self.clock, who, project)
                if a is not None:
                    for _ in range(2):
                        self.clock.advance(10)
                        work.heartbeat(self.s, self.clock, who, a.id)
                    break

    def euro_pay(self) -> None:
        """Pay in the second currency, by hand: piece, withholding and top-up lines."""
        who = self.rng.choice(self.workers)
        escrow = postings.account(
            self.s, self.clock, AccountKind.escrow, "EUR", project_id=self.eur.id
        )
        payable = postings.account(self.s, self.clock, AccountKind.payable, "EUR", member_id=who.id)
        for kind, amount in ((pay.TOP_UP, 70), (pay.WITHHOLD, -20)):
            postings.post(
                self.s,
                self.clock,
                kind,
                [postings.Line(escrow, -amount), postings.Line(payable, amount)],
                project_id=self.eur.id,
            )

    def step(self) -> None:
        op = self.rng.choice(["task"] * 6 + ["settle", "fraud", "batch", "paid", "wait", "eur"])
        try:
            with self.s.begin_nested():
                if op == "task":
                    self.task()
                elif op == "settle":
                    project = self.rng.choice(self.paid)
                    settlement.settle(self.s, self.clock, self.requester, project)
                elif op == "fraud":
                    self.confirm_fraud()
                elif op == "batch":
                    payouts.create_batch(self.s, self.clock, self.steward, "USD")
                elif op == "paid":
                    batch = payouts.open_batch(self.s, "USD")
                    if batch is not None:
                        payouts.mark_paid(self.s, self.clock, self.steward, batch.id)
                elif op == "eur":
                    self.euro_pay()
                else:
                    self.clock.advance(self.rng.choice([30, 400, DAY]))
        except Conflict:
            pass  # refused (nothing to pay, a full project, ...): the history goes on


@pytest.mark.parametrize("seed", range(4))
def test_earnings_all_equals_the_statement_of_each_project(engine, seed):
    rng = random.Random(seed)
    with Session(engine) as s:
        h = History(s, rng)
        for _ in range(40):
            h.step()
        h.confirm_fraud()  # at least one withholding, whatever the seed
        h.euro_pay()
        h.live_leases()
        for who in h.workers:
            order = h.all[:]
            rng.shuffle(order)  # returned in the order asked for
            together = statements.earnings_all(s, h.clock, who, order)
            one_by_one = [statements.earnings(s, h.clock, who, p) for p in order]
            assert together == one_by_one
            assert together == [_reference(s, h.clock, who, p) for p in order]
            assert [e.project_id for e in together] == [p.id for p in order]
        assert statements.earnings_all(s, h.clock, h.workers[0], []) == []
        assert h.fraud >= 1
        s.rollback()


def test_the_history_reaches_every_figure(engine):
    """The seeds above are not vacuous: across them, members have withholdings, clawbacks,
    payouts, balances in two currencies and counted time."""
    seen: set[str] = set()
    for seed in range(4):
        with Session(engine) as s:
            h = History(s, random.Random(seed))
            for _ in range(40):
                h.step()
            h.confirm_fraud()
            h.euro_pay()
            for who in h.workers:
                for e in statements.earnings_all(s, h.clock, who, h.all):
                    seen |= {
                        name
                        for name, hit in [
                            ("withheld", e.withheld > 0),
                            ("clawed", e.clawed_back > 0),
                            ("payout", bool(e.payouts)),
                            ("eur", e.currency == "EUR" and e.payable_balance > 0),
                            ("time", e.active_ms > 0),
                            ("top-up", e.top_ups > 0),
                        ]
                        if hit
                    }
            s.rollback()
    assert seen == {"withheld", "clawed", "payout", "eur", "time", "top-up"}


def _member_in_projects(engine, clock: FixedClock, member_id: int | None, n: int) -> Member:
    """``n`` more settled projects in which the member (new when ``member_id`` is None)
    submitted one answer; committed, for the app's own sessions to read."""
    with Session(engine, expire_on_commit=False) as s:
        requester = _user(s, clock, Role.requester)
        member = _user(s, clock) if member_id is None else s.get(Member, member_id)
        assert member is not None
        for _ in range(n):
            project = _project(s, clock, requester, items=2)
            a = work.next_task(s, clock, member, project)
            assert a is not None
            clock.advance(10)
            work.heartbeat(s, clock, member, a.id)
            work.submit(s, clock, member, answer="a", assignment_id=a.id)
            settlement.settle(s, clock, requester, project)
        s.commit()
        return member


def test_the_earnings_page_runs_as_many_statements_for_five_projects_as_for_two(
    client, engine, clock
):
    member = _member_in_projects(engine, clock, None, 2)
    log_in(client, member.email)
    counted: list[str] = []

    def count(conn, cursor, statement, *args):
        counted.append(statement)

    def statements_for_page() -> int:
        counted.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            page = client.get("/earnings")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert page.status_code == 200
        return len(counted)

    two = statements_for_page()
    assert client.get("/earnings").text.count('<tr id="statement-') == 2
    _member_in_projects(engine, clock, member.id, 3)
    five = statements_for_page()
    assert client.get("/earnings").text.count('<tr id="statement-') == 5
    assert five == two
    assert two <= 25  # about 20: the session, the chart, the totals, the statements
