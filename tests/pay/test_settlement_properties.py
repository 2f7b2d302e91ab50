"""Property test of the money core, on both backends: for random funding, assignments,
heartbeats, submissions, skips, settlements, rejections, appeals, steward decisions (fraud
confirmed included), early approvals and payout batches with random timings, every account
together sums to zero and every posting balances; after settlement no member is below the
floor on their honest time (time not confirmed as fraud); a rejection never un-pays honest
work; nothing is paid twice (settling again posts nothing, each submission is paid its piece
once, a clawback is never topped up again, a batch never pays the same money twice); and a
task is never handed out without its pay reserved."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from people import register as _user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datacoop.clock import FixedClock
from datacoop.errors import Conflict
from datacoop.members.models import Member, Role
from datacoop.pay import appeals, postings, rules, settlement, statements
from datacoop.pay import services as pay
from datacoop.pay.models import (
    Account,
    AccountKind,
    PiecePayment,
    Posting,
    PostingLine,
    Rejection,
    RejectionState,
)
from datacoop.pay.money import Money
from datacoop.payouts import services as payouts
from datacoop.payouts.models import BatchState, PayoutBatch, PayoutLine
from datacoop.projects import services as projects
from datacoop.work import services as work
from datacoop.work.models import Assignment, Submission

N_MEMBERS = 3

spec = st.fixed_dictionaries(
    {
        "pay_per_item": st.one_of(st.integers(0, 10), st.integers(0, 60)),  # floors often rule
        "estimated_seconds": st.integers(5, 120),
        "overlap": st.integers(1, 3),
        "items": st.integers(1, 4),
        "extra": st.sampled_from([0, 0, 1, 50, 300]),  # funded beyond what launch needs
        "threshold": st.sampled_from([0, 0, 40]),  # the policy's payout threshold
    }
)


def _task() -> st.SearchStrategy[tuple[object, ...]]:
    return st.tuples(
        st.just("task"),
        st.integers(0, N_MEMBERS - 1),
        st.lists(st.integers(1, 40), max_size=8),
        st.sampled_from(["submit", "submit", "skip", "abandon"]),
    )


step = st.one_of(
    # A task: lease it, heartbeats after random gaps (over 30 s is not counted), then submit,
    # skip or walk away. Four times over: most steps are work.
    _task(),
    _task(),
    _task(),
    _task(),
    st.tuples(st.just("settle")),
    st.tuples(st.just("wait"), st.integers(1, 900)),
    st.tuples(st.just("fund"), st.integers(1, 500)),
    st.tuples(st.just("settle")),
    # The requester rejects a submission (any reason; suspected fraud most often) or
    # approves one early; the member appeals; a steward decides (fraud only after the
    # window, so the waits below are longer than the test's 2-day appeal window).
    st.tuples(
        st.just("reject"),
        st.integers(0, 20),
        st.sampled_from(
            [
                "suspected_fraud",
                "suspected_fraud",
                "wrong_answer",
                "gibberish",
                "ignored_instructions",
            ]
        ),
    ),
    st.tuples(st.just("approve"), st.integers(0, 20)),
    st.tuples(st.just("appeal"), st.integers(0, 20)),
    st.tuples(
        st.just("decide"),
        st.integers(0, 20),
        st.sampled_from(["fraud_confirmed", "fraud_confirmed", "upheld", "overturned"]),
    ),
    st.tuples(st.just("wait_days"), st.sampled_from([1, 3])),
    # The same, in one step, so that many runs reach a confirmed fraud: settle (or not),
    # reject one of the newest submissions as suspected fraud, wait out the window, confirm.
    st.tuples(st.just("fraud"), st.integers(0, 2), st.booleans()),
    # A steward makes a payout batch, or marks one paid (again: refused).
    st.tuples(st.just("batch")),
    st.tuples(st.just("paid"), st.integers(0, 3)),
)
DAY = 86_400


def _check_ledger(session: Session) -> None:
    assert all(total == 0 for total in postings.totals(session).values())
    unbalanced = session.execute(
        select(PostingLine.posting_id)
        .group_by(PostingLine.posting_id)
        .having(func.sum(PostingLine.amount) != 0)
    ).all()
    assert unbalanced == []


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=spec, steps=st.lists(step, min_size=6, max_size=30))
# Work far over the estimate drains the escrow: members are still paid, the project pauses.
@example(
    spec={
        "pay_per_item": 0,
        "estimated_seconds": 5,
        "overlap": 1,
        "items": 2,
        "extra": 0,
        "threshold": 0,
    },
    steps=[("task", 0, [30] * 8, "submit"), ("settle",), ("task", 1, [10], "submit")],
)
# Paid (a rate rise and floor top-ups), paid out, then fraud confirmed on a long answer:
# the piece is withheld and the top-up it earned clawed back, below zero after the payout.
@example(
    spec={
        "pay_per_item": 10,
        "estimated_seconds": 30,
        "overlap": 1,
        "items": 4,
        "extra": 300,
        "threshold": 0,
    },
    steps=[
        ("task", 0, [20, 20, 20], "submit"),
        ("task", 0, [30] * 8, "submit"),
        ("task", 1, [20, 20], "submit"),
        ("settle",),
        ("batch",),
        ("paid", 0),
        ("reject", 1, "suspected_fraud"),
        ("reject", 2, "wrong_answer"),
        ("appeal", 0),
        ("wait_days", 3),
        ("decide", 0, "fraud_confirmed"),
        ("decide", 1, "upheld"),
        ("settle",),
        ("task", 0, [20], "submit"),
    ],
)
def test_money_is_conserved_the_floor_holds_and_nothing_is_paid_twice(engine, spec, steps):
    clock = FixedClock()
    with Session(engine) as session:
        requester = _user(session, clock, Role.requester)
        steward = _user(session, clock, Role.steward)
        workers = [_user(session, clock) for _ in range(N_MEMBERS)]
        # A short appeal window, so fraud can be confirmed within a few waits; a payout
        # method for all but the last worker (who keeps their balance until they set one).
        pay.set_policy(
            session,
            clock,
            steward,
            appeal_days=2,
            payout_threshold=Money(spec["threshold"], "USD"),
        )
        for w in workers[:-1]:
            payouts.set_method(
                session, clock, w, "sepa", {"account_holder": "W", "iban": "DE89370400440532013000"}
            )
        roles = Roles(requester, steward, workers, spec["threshold"])
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
            if op in ("wait", "wait_days"):
                clock.advance(args[0] * (DAY if op == "wait_days" else 1))
                continue
            try:
                with session.begin_nested():  # what the unit of work would roll back
                    _apply(session, clock, op, args, project, roles)
            except Conflict as exc:
                event(f"refused: {exc.code}")
            _check_ledger(session)
            _check_payouts(session)
            pp = pay.get_project_pay(session, project.id)
            leases = session.scalar(select(func.count()).where(Assignment.project_id == project.id))
            assert leases == pp.reserved_tasks <= pp.funded_tasks

        clock.advance(400)  # every lease is over: all measured time counts
        settlement.settle(session, clock, requester, project)
        _check_ledger(session)
        floor = pay.current_policy(session).floor_hourly
        fraud = _fraud(session)
        event(f"fraud confirmed: {bool(fraud)}")
        ppi = spec["pay_per_item"]
        for w in workers:
            e = statements.earnings(session, clock, w, project)
            honest_ms = session.scalar(
                select(func.coalesce(func.sum(Assignment.active_ms), 0)).where(
                    Assignment.project_id == project.id,
                    Assignment.member_id == w.id,
                    Assignment.id.not_in([a for a, _ in fraud.values()] or [0]),
                )
            )
            assert e.active_ms == honest_ms
            # Honest time is paid at the floor, after withholdings and clawbacks alike.
            assert e.total_paid >= rules.floor_pay(floor, honest_ms)
            honest = session.scalar(
                select(func.count()).where(
                    Submission.project_id == project.id,
                    Submission.member_id == w.id,
                    Submission.id.not_in(list(fraud) or [0]),
                )
            )
            assert e.piece_pay == honest * ppi  # every honest piece kept, once
            assert 0 <= e.clawed_back <= e.top_ups + e.clawed_back  # only top-ups are clawed
            if e.clawed_back:
                event("clawed back")
        submitted = session.scalar(select(func.count()).where(Submission.project_id == project.id))
        paid = session.scalar(select(func.count()).where(PiecePayment.project_id == project.id))
        assert paid == submitted
        event(f"submissions: {min(submitted, 5)}{'+' if submitted >= 5 else ''}")
        # Rejection never un-pays honest work: a rejected submission not confirmed as fraud
        # keeps its piece, and nothing was withheld for it.
        for sub_id, state in session.execute(select(Rejection.submission_id, Rejection.state)):
            piece = session.get(PiecePayment, sub_id)
            if state is RejectionState.fraud_confirmed:
                continue
            assert piece is not None and piece.amount == ppi
            assert (
                session.scalar(
                    select(func.count()).where(Posting.key == f"withhold:submission:{sub_id}")
                )
                == 0
            )
        # No piece paid twice: what piece postings paid is exactly the pieces recorded.
        to_members = settlement.paid_by_member(session, project.id, (pay.PIECE,))
        recorded = session.scalar(
            select(func.coalesce(func.sum(PiecePayment.amount), 0)).where(
                PiecePayment.project_id == project.id, PiecePayment.posting_id.is_not(None)
            )
        )
        assert sum(to_members.values()) == recorded
        posts = session.scalar(select(func.count()).select_from(Posting))
        again = settlement.settle(session, clock, requester, project)
        assert again.postings == [] and again.members == []
        assert session.scalar(select(func.count()).select_from(Posting)) == posts
        cost = statements.cost(session, clock, requester, project)
        event(f"state {cost.state}, piece {bool(cost.piece_pay)}, top-ups {bool(cost.top_ups)}")
        assert cost.escrow == (
            cost.deposited - cost.refunded - cost.piece_pay - cost.top_ups - cost.fees
        )
        _check_payouts(session)
        session.rollback()


@dataclass
class Roles:
    requester: Member
    steward: Member
    workers: list[Member]
    threshold: int


def _fraud(session: Session) -> dict[int, tuple[int, int]]:
    """submission -> (assignment, member) of every rejection confirmed as fraud."""
    rows = session.execute(
        select(Rejection.submission_id, Rejection.assignment_id, Rejection.member_id).where(
            Rejection.state == RejectionState.fraud_confirmed
        )
    ).all()
    return {int(s): (int(a), int(m)) for s, a, m in rows}


def _payable(session: Session) -> dict[int, int]:
    return payouts.payable_balances(session, "USD")


def _check_payouts(session: Session) -> None:
    """What the payout code guarantees, per member: a batch pays only a balance above zero,
    whole, so everything paid out plus what is still payable is exactly what they earned net
    of withholdings and clawbacks; a balance goes below zero only by a withholding or
    clawback that came after a payout, never by more than those; and nothing paid out was
    never earned."""
    sent = dict(
        session.execute(
            select(PayoutLine.member_id, func.sum(PayoutLine.amount)).group_by(PayoutLine.member_id)
        ).all()
    )
    by_kind: dict[tuple[int, str], int] = {}
    for member_id, kind, total in session.execute(
        select(Account.member_id, Posting.kind, func.sum(PostingLine.amount))
        .join(Posting, Posting.id == PostingLine.posting_id)
        .join(Account, Account.id == PostingLine.account_id)
        .where(Account.kind == AccountKind.payable)
        .group_by(Account.member_id, Posting.kind)
    ):
        by_kind[(int(member_id), str(kind))] = int(total)
    for member_id, owed in _payable(session).items():
        paid_out = int(sent.get(member_id, 0))
        earned = sum(by_kind.get((member_id, k), 0) for k in (pay.PIECE, pay.TOP_UP))
        taken = -sum(by_kind.get((member_id, k), 0) for k in (pay.WITHHOLD, pay.CLAWBACK))
        assert paid_out == -by_kind.get((member_id, "payout"), 0)
        assert owed + paid_out == earned - taken  # nothing paid out twice
        assert 0 <= paid_out <= earned  # nothing paid out that was never earned
        assert owed >= -taken  # below zero only by what fraud took back after a payout
    open_batches = session.scalar(select(func.count()).where(PayoutBatch.state == BatchState.open))
    assert open_batches <= 1  # one open batch per currency, and this test pays in USD


def _decide(session, clock, project, steward, r, outcome):
    appeals.decide(session, clock, steward, r.id, outcome=outcome, note="looked at it")
    if r.clawed_back:
        event("clawed back")
        # Settling now would not top the clawed amount up again: on the figures
        # settlement uses, the member is owed no top-up (new pieces aside).
        pp = pay.current_policy(session)
        now = clock.now()
        top = rules.top_up(
            pp.floor_hourly,
            settlement.active_ms_by_member(session, project.id, now).get(r.member_id, 0),
            settlement.paid_by_member(session, project.id, settlement.PAID_KINDS).get(
                r.member_id, 0
            ),
            at_rate=settlement.current_piece_rate(session, project)
            * settlement.paid_pieces_by_member(session, project.id).get(r.member_id, 0),
        )
        assert top == 0
        assert settlement.clawback_due(session, clock, project, r.member_id) == 0


def _apply(session, clock, op, args, project, roles):
    requester, steward, workers = roles.requester, roles.steward, roles.workers
    subs = list(
        session.scalars(
            select(Submission.id).where(Submission.project_id == project.id).order_by(Submission.id)
        )
    )
    if op == "fraud" and subs:
        sub_id = subs[-1 - args[0] % len(subs)]
        if args[1]:
            settlement.settle(session, clock, requester, project)
        try:
            with session.begin_nested():
                appeals.reject(
                    session, clock, requester, sub_id, reason="suspected_fraud", evidence="x"
                )
        except Conflict as exc:
            event(f"fraud step: {exc.code}")
        found = session.scalar(select(Rejection).where(Rejection.submission_id == sub_id))
        clock.advance(3 * DAY)
        if found is not None:
            _decide(session, clock, project, steward, found, "fraud_confirmed")
    elif op == "reject" and subs:
        appeals.reject(
            session, clock, requester, subs[args[0] % len(subs)], reason=args[1], evidence="x"
        )
    elif op == "approve" and subs:
        appeals.approve(session, clock, requester, subs[args[0] % len(subs)])
    elif op in ("appeal", "decide"):
        found = list(session.scalars(select(Rejection).order_by(Rejection.id)))
        if not found:
            return
        r = found[args[0] % len(found)]
        if op == "appeal":
            member = next(w for w in workers if w.id == r.member_id)
            appeals.appeal(session, clock, member, r.id, statement="I did it right")
            return
        _decide(session, clock, project, steward, r, args[1])
    elif op == "batch":
        before = _payable(session)
        try:
            batch, created = payouts.create_batch(session, clock, steward, "USD")
        except Conflict as exc:
            assert exc.code in ("nothing_to_pay", "below_threshold")
            raise
        if created:
            after = _payable(session)
            lines = {line.member_id: line.amount for line in payouts.lines_of(session, batch)}
            for member_id, owed in before.items():
                if member_id in lines:  # paid whole, at least the threshold
                    assert lines[member_id] == owed >= max(1, roles.threshold)
                    assert after[member_id] == 0
                else:  # left out: nothing lost
                    assert after[member_id] == owed
    elif op == "paid":
        ids = list(session.scalars(select(PayoutBatch.id).order_by(PayoutBatch.id)))
        if ids:
            payouts.mark_paid(session, clock, steward, ids[args[0] % len(ids)])
    elif op == "fund":
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
