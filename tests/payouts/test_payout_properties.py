"""Property test of payouts, on both backends: for random sequences of earnings, payout
methods set, batches made, batches paid (and paid again), and weekly runs, every account
together sums to zero; a member is never paid out more than they earned, nor the same
money twice; at most one batch per currency is open; and what a member earned is always
exactly what is still payable plus what their batch lines carry."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from people import register as _user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datacoop.clock import FixedClock
from datacoop.errors import Conflict
from datacoop.members.models import Role
from datacoop.pay import postings
from datacoop.pay.models import AccountKind
from datacoop.payouts import services as payouts
from datacoop.payouts.models import BatchState, PayoutBatch, PayoutLine

N_MEMBERS = 3
CURRENCIES = ["EUR", "USD"]

step = st.one_of(
    st.tuples(
        st.just("earn"),
        st.integers(0, N_MEMBERS - 1),
        st.integers(1, 5000),
        st.sampled_from(CURRENCIES),
    ),
    st.tuples(st.just("method"), st.integers(0, N_MEMBERS - 1)),
    st.tuples(st.just("batch"), st.sampled_from(CURRENCIES), st.sampled_from([0, 0, 1000])),
    st.tuples(st.just("pay"), st.integers(0, 5)),
    st.tuples(st.just("weekly"), st.sampled_from(CURRENCIES), st.integers(0, 8)),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, max_size=25))
def test_payouts_conserve_money_and_never_pay_twice(engine, steps):
    clock = FixedClock()
    with Session(engine) as s:
        steward = _user(s, clock, Role.steward)
        people = [_user(s, clock) for _ in range(N_MEMBERS)]
        earned = {(m.id, c): 0 for m in people for c in CURRENCIES}
        for op in steps:
            kind = op[0]
            if kind == "earn":
                _, who, amount, currency = op
                reserve = postings.account(s, clock, AccountKind.reserve, currency)
                payable = postings.account(
                    s, clock, AccountKind.payable, currency, member_id=people[who].id
                )
                postings.post(
                    s,
                    clock,
                    "test_credit",
                    [postings.Line(reserve, -amount), postings.Line(payable, amount)],
                )
                earned[(people[who].id, currency)] += amount
            elif kind == "method":
                payouts.set_method(
                    s,
                    clock,
                    people[op[1]],
                    "sepa",
                    {"account_holder": "P", "iban": "DE89370400440532013000"},
                )
            elif kind == "batch":
                try:
                    with s.begin_nested():
                        payouts.create_batch(s, clock, steward, op[1], minimum=op[2])
                except Conflict as exc:
                    assert exc.code == "nothing_to_pay"
            elif kind == "pay":
                ids = list(s.scalars(select(PayoutBatch.id).order_by(PayoutBatch.id)))
                if ids:
                    target = ids[op[1] % len(ids)]
                    was = s.get(PayoutBatch, target).state
                    try:
                        with s.begin_nested():
                            payouts.mark_paid(s, clock, steward, target)
                        assert was is BatchState.open
                    except Conflict as exc:
                        assert exc.code == "already_paid" and was is BatchState.paid
            else:
                _, currency, days = op
                clock.advance(days * 86400)
                with s.begin_nested():
                    payouts.weekly_batch(s, clock, steward, currency)

            assert set(postings.totals(s).values()) <= {0}
            for currency in CURRENCIES:
                open_batches = s.scalar(
                    select(func.count()).where(
                        PayoutBatch.currency == currency, PayoutBatch.state == BatchState.open
                    )
                )
                assert open_batches <= 1
            for (member_id, currency), total in earned.items():
                owed = postings.balance_of(
                    s, AccountKind.payable, currency, member_id=member_id
                ).amount
                sent = s.scalar(
                    select(func.coalesce(func.sum(PayoutLine.amount), 0)).where(
                        PayoutLine.member_id == member_id, PayoutLine.currency == currency
                    )
                )
                assert owed >= 0
                assert owed + int(sent) == total
        paid_total = {
            c: int(
                s.scalar(
                    select(func.coalesce(func.sum(PayoutBatch.total), 0)).where(
                        PayoutBatch.currency == c, PayoutBatch.state == BatchState.paid
                    )
                )
            )
            for c in CURRENCIES
        }
        for c in CURRENCIES:
            assert postings.balance_of(s, AccountKind.paid_out, c).amount == paid_total[c]
        s.rollback()
