"""Double-entry postings: accounts, balanced postings, balances.

A posting is a set of lines whose amounts sum to zero, all in one currency; an account's
balance is the sum of its lines. So the balances of all accounts always sum to zero: money
is only ever moved, never made or lost. Every posting is appended to the transparency log in
the same transaction (``pay:posted``), with amounts and pseudonymous account labels only.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from datacoop.clock import Clock
from datacoop.errors import Conflict, ValidationFailed
from datacoop.log import services as log
from datacoop.log.kinds import EntryKind
from datacoop.members.models import Member
from datacoop.members.services import contributor_for
from datacoop.pay.models import Account, AccountKind, Posting, PostingLine
from datacoop.pay.money import CurrencyMismatch, Money, check_currency

# Accounts that belong to the cooperative itself (no project, no member).
COOPERATIVE = (AccountKind.fee, AccountKind.reserve, AccountKind.clearing, AccountKind.paid_out)


def account_key(
    kind: AccountKind, currency: str, *, project_id: int | None = None, member_id: int | None = None
) -> str:
    """``escrow:project:7:USD``, ``payable:member:3:USD``, ``fee:USD``, ..."""
    if kind is AccountKind.escrow:
        if project_id is None:
            raise ValueError("an escrow account belongs to a project")
        return f"escrow:project:{project_id}:{currency}"
    if kind in (AccountKind.payable, AccountKind.funding):
        if member_id is None:
            raise ValueError(f"a {kind.value} account belongs to a member")
        return f"{kind.value}:member:{member_id}:{currency}"
    return f"{kind.value}:{currency}"


def account(
    session: Session,
    clock: Clock,
    kind: AccountKind,
    currency: str,
    *,
    project_id: int | None = None,
    member_id: int | None = None,
) -> Account:
    """The account, created on first use."""
    check_currency(currency)
    key = account_key(kind, currency, project_id=project_id, member_id=member_id)
    found = session.scalar(select(Account).where(Account.key == key))
    if found is not None:
        return found
    new = Account(
        key=key,
        kind=kind,
        currency=currency,
        project_id=project_id,
        member_id=member_id,
        created_at=clock.now(),
    )
    try:
        with session.begin_nested():  # a concurrent first use may have created it
            session.add(new)
    except IntegrityError:
        found = session.scalar(select(Account).where(Account.key == key))
        assert found is not None
        return found
    return new


@dataclass(frozen=True)
class Line:
    account: Account
    amount: int


def post(
    session: Session,
    clock: Clock,
    kind: str,
    lines: Sequence[Line],
    *,
    project_id: int | None = None,
    key: str | None = None,
    labels: Mapping[int, str] | None = None,
) -> Posting:
    """Record one balanced posting and its log entry; refuse anything unbalanced.

    Zero lines are dropped. Lines must share one currency and sum to zero; a reused ``key``
    is a ``Conflict`` (the money already moved). ``labels`` names accounts (by account id)
    in the log entry instead of ``_label``: payouts pass their salted member labels.
    """
    kept = [line for line in lines if line.amount != 0]
    if not kept:
        raise ValidationFailed.field("lines", "a posting moves a non-zero amount")
    currencies = {line.account.currency for line in kept}
    if len(currencies) != 1:
        raise CurrencyMismatch(
            "a posting's lines must all be in one currency", details=sorted(currencies)
        )
    total = sum(line.amount for line in kept)
    if total != 0:
        raise ValidationFailed.field("lines", f"a posting must balance; its lines sum to {total}")
    for line in kept:
        if isinstance(line.amount, bool) or not isinstance(line.amount, int):
            raise ValidationFailed.field("lines", "amounts are integer minor units")
    if key is not None and session.scalar(select(Posting.id).where(Posting.key == key)):
        raise Conflict(f"posting {key!r} was already made", code="already_posted")
    (currency,) = currencies
    posting = Posting(
        kind=kind,
        project_id=project_id,
        currency=currency,
        key=key,
        log_index=log.next_index(session),
        created_at=clock.now(),
    )
    session.add(posting)
    session.flush()
    session.add_all(
        PostingLine(posting_id=posting.id, account_id=line.account.id, amount=line.amount)
        for line in kept
    )
    appended = log.append(
        session,
        clock,
        EntryKind.pay_posted,
        posting=posting.id,
        posting_kind=kind,
        project=project_id,
        currency=currency,
        lines=[
            [
                (labels or {}).get(line.account.id)
                or _label(session, clock, line.account, project_id),
                line.amount,
            ]
            for line in kept
        ],
    )
    assert appended == posting.log_index
    session.flush()
    return posting


def _label(session: Session, clock: Clock, acct: Account, project_id: int | None) -> str:
    """A pseudonymous name for the log: per-project contributor ids for members (so the
    public log cannot link one member's pay across projects), pseudonyms for requesters.

    A member's payable account outside any project is never named by their pseudonym:
    payouts pass a salted label the member can verify (``payouts.rules.payout_label``);
    any other such posting gets a random, unlinkable one."""
    if acct.kind is AccountKind.escrow:
        return f"escrow:project:{acct.project_id}"
    if acct.kind is AccountKind.payable:
        assert acct.member_id is not None
        if project_id is not None:
            who = contributor_for(session, clock, project_id, acct.member_id).contributor_id
            return f"payable:{who}"
        return f"payable:{secrets.token_hex(32)}"
    if acct.kind is AccountKind.funding:
        member = session.get(Member, acct.member_id)
        assert member is not None
        return f"funding:{member.pseudonym}"
    return acct.kind.value


def balance(session: Session, acct: Account) -> Money:
    total = session.scalar(
        select(func.coalesce(func.sum(PostingLine.amount), 0)).where(
            PostingLine.account_id == acct.id
        )
    )
    return Money(int(total or 0), acct.currency)


def balance_of(
    session: Session,
    kind: AccountKind,
    currency: str,
    *,
    project_id: int | None = None,
    member_id: int | None = None,
) -> Money:
    """An account's balance by its identity; zero for an account never used."""
    key = account_key(kind, currency, project_id=project_id, member_id=member_id)
    total = session.scalar(
        select(func.coalesce(func.sum(PostingLine.amount), 0))
        .join(Account, Account.id == PostingLine.account_id)
        .where(Account.key == key)
    )
    return Money(int(total or 0), currency)


def totals(session: Session) -> dict[str, int]:
    """The sum of every account's balance, per currency: always zero (the invariant)."""
    rows = session.execute(
        select(Account.currency, func.sum(PostingLine.amount))
        .join(Account, Account.id == PostingLine.account_id)
        .group_by(Account.currency)
    ).all()
    return {currency: int(total) for currency, total in rows}
