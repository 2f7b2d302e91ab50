"""Double entry, on both backends: a posting balances in one currency or is refused, a key
moves money once, and the balances of all accounts sum to zero."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datacoop.errors import Conflict, ValidationFailed
from datacoop.log.models import LogEntry
from datacoop.pay import postings
from datacoop.pay.models import AccountKind, Posting
from datacoop.pay.money import CurrencyMismatch


def _counts(s: Session) -> tuple[int, int]:
    return (
        s.scalar(select(func.count()).select_from(Posting)),
        s.scalar(select(func.count()).select_from(LogEntry)),
    )


def test_unbalanced_mixed_or_repeated_postings_are_refused(engine, clock):
    with Session(engine) as s:
        fee_usd = postings.account(s, clock, AccountKind.fee, "USD")
        reserve_usd = postings.account(s, clock, AccountKind.reserve, "USD")
        reserve_eur = postings.account(s, clock, AccountKind.reserve, "EUR")
        assert postings.account(s, clock, AccountKind.fee, "USD").id == fee_usd.id
        before = _counts(s)
        bad = [
            (
                [postings.Line(fee_usd, 100), postings.Line(reserve_usd, -99)],
                ValidationFailed,
                "lines: a posting must balance; its lines sum to 1",
            ),
            (
                [postings.Line(fee_usd, 100), postings.Line(reserve_eur, -100)],
                CurrencyMismatch,
                "a posting's lines must all be in one currency",
            ),
            ([postings.Line(fee_usd, 0)], ValidationFailed, "lines: a posting moves"),
        ]
        for lines, error, message in bad:
            with pytest.raises(error, match=message):
                postings.post(s, clock, "test", lines)
        assert _counts(s) == before

        lines = [postings.Line(fee_usd, 100), postings.Line(reserve_usd, -100)]
        posting = postings.post(s, clock, "test", lines, key="once")
        with pytest.raises(Conflict, match="already made"):
            postings.post(s, clock, "test", lines, key="once")
        assert _counts(s) == (before[0] + 1, before[1] + 1)
        assert postings.balance(s, fee_usd).amount == 100
        assert postings.balance_of(s, AccountKind.reserve, "USD").amount == -100
        assert postings.balance_of(s, AccountKind.reserve, "EUR").amount == 0
        assert postings.totals(s) == {"USD": 0}
        entry = s.get(LogEntry, posting.log_index)
        assert entry.kind == "pay:posted"
        assert '"lines":[["fee",100],["reserve",-100]]' in entry.payload
        s.rollback()


def test_account_keys_name_their_owner():
    key = postings.account_key
    assert key(AccountKind.escrow, "USD", project_id=7) == "escrow:project:7:USD"
    assert key(AccountKind.payable, "USD", member_id=3) == "payable:member:3:USD"
    assert key(AccountKind.fee, "EUR") == "fee:EUR"
    with pytest.raises(ValueError):
        key(AccountKind.escrow, "USD")
    with pytest.raises(ValueError):
        key(AccountKind.payable, "USD")
