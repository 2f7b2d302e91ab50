"""Under real concurrency, on both backends: 8 simultaneous payout-batch requests create
exactly one batch, every member is paid out once, and the ledger still sums to zero."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from datacoop.db.uow import UnitOfWork
from datacoop.members import services as members
from datacoop.members.models import Member, Role
from datacoop.members.passwords import make_hasher
from datacoop.pay import postings
from datacoop.pay.models import AccountKind, Posting
from datacoop.payouts import services as payouts
from datacoop.payouts.models import PayoutBatch, PayoutLine

REQUESTS = 8
PAYEES = 5
IBAN = "DE89370400440532013000"


def _seed(engine, clock) -> tuple[int, list[int]]:
    hasher = make_hasher(1, 8)
    with UnitOfWork(engine) as s:
        steward = members.register(
            s,
            clock,
            hasher,
            email="steward@example.org",
            password="x" * 12,
            display_name="steward",
            role=Role.steward,
        )
        reserve = postings.account(s, clock, AccountKind.reserve, "EUR")
        ids = []
        for i in range(PAYEES):
            m = members.register(
                s, clock, hasher, email=f"p{i}@example.org", password="x" * 12, display_name="p"
            )
            payouts.set_method(s, clock, m, "sepa", {"account_holder": f"P {i}", "iban": IBAN})
            payable = postings.account(s, clock, AccountKind.payable, "EUR", member_id=m.id)
            postings.post(
                s,
                clock,
                "test_credit",
                [postings.Line(reserve, -(100 + i)), postings.Line(payable, 100 + i)],
            )
            ids.append(m.id)
        return steward.id, ids


def test_concurrent_batch_requests_create_exactly_one_batch(engine, clock):
    steward_id, payee_ids = _seed(engine, clock)
    barrier = threading.Barrier(REQUESTS)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def request() -> None:
        try:
            barrier.wait()
            with UnitOfWork(engine) as s:
                steward = s.get(Member, steward_id)
                batch, created = payouts.create_batch(s, clock, steward, "EUR")
                results.append((batch.id, created))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=request) for _ in range(REQUESTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == REQUESTS
    assert len({batch_id for batch_id, _ in results}) == 1
    assert sorted(created for _, created in results) == [False] * (REQUESTS - 1) + [True]
    with UnitOfWork(engine) as s:
        assert s.scalar(select(func.count()).select_from(PayoutBatch)) == 1
        assert s.scalar(select(func.count()).select_from(PayoutLine)) == PAYEES
        assert s.scalar(select(func.count()).where(Posting.kind == "payout")) == PAYEES
        for member_id in payee_ids:
            owed = postings.balance_of(s, AccountKind.payable, "EUR", member_id=member_id)
            assert owed.amount == 0
        total = sum(100 + i for i in range(PAYEES))
        assert postings.balance_of(s, AccountKind.clearing, "EUR").amount == total
        assert set(postings.totals(s).values()) == {0}


def test_concurrent_confirmations_pay_a_batch_once(engine, clock):
    steward_id, _ = _seed(engine, clock)
    with UnitOfWork(engine) as s:
        batch, _ = payouts.create_batch(s, clock, s.get(Member, steward_id), "EUR")
        batch_id = batch.id
    barrier = threading.Barrier(REQUESTS)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def confirm() -> None:
        from datacoop.errors import Conflict

        try:
            barrier.wait()
            try:
                with UnitOfWork(engine) as s:
                    payouts.mark_paid(s, clock, s.get(Member, steward_id), batch_id)
                outcomes.append("paid")
            except Conflict as exc:
                outcomes.append(exc.code)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=confirm) for _ in range(REQUESTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(outcomes) == ["already_paid"] * (REQUESTS - 1) + ["paid"]
    with UnitOfWork(engine) as s:
        assert s.scalar(select(func.count()).where(Posting.kind == "payout_paid")) == 1
        assert postings.balance_of(s, AccountKind.clearing, "EUR").amount == 0
        assert set(postings.totals(s).values()) == {0}
