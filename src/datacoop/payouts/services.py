"""Payout use cases: payout methods, batches on demand or weekly, marking a batch paid.

A batch moves each member's payable balance to payout clearing (one ``payout`` posting per
member, keyed ``payout:<batch>:<member>``); marking it paid moves the batch total from
clearing to ``paid_out`` (one ``payout_paid`` posting keyed ``payout:<batch>:paid``). Both go
through ``pay.postings.post`` and so into the log. Services flush, never commit.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from datacoop.clock import Clock
from datacoop.errors import Conflict, NotFound, ValidationFailed
from datacoop.members.models import Member
from datacoop.pay import postings
from datacoop.pay import services as pay
from datacoop.pay.models import Account, AccountKind, Posting, PostingLine
from datacoop.pay.money import Money, check_currency
from datacoop.payouts import rules
from datacoop.payouts.models import BatchState, PayoutBatch, PayoutLine, PayoutMethod

WEEK = timedelta(days=7)


# -- payout methods ---------------------------------------------------------------------


def get_method(session: Session, member: Member) -> PayoutMethod | None:
    return session.get(PayoutMethod, member.id)


def set_method(
    session: Session, clock: Clock, member: Member, kind: str, raw: dict[str, Any]
) -> PayoutMethod:
    """Set (or replace) the member's own payout method, validated (IBAN by schwifty)."""
    method, details = rules.check_method(kind, raw)
    now = clock.now()
    found = session.get(PayoutMethod, member.id)
    if found is None:
        found = PayoutMethod(
            member_id=member.id, kind=method, details=details, created_at=now, updated_at=now
        )
        session.add(found)
    else:
        found.kind = method
        found.details = details
        found.updated_at = now
    session.flush()
    return found


# -- batches ----------------------------------------------------------------------------


def payable_balances(session: Session, currency: str) -> dict[int, int]:
    """Every member's payable balance in ``currency`` (members never paid are absent)."""
    rows = session.execute(
        select(Account.member_id, func.coalesce(func.sum(PostingLine.amount), 0))
        .join(PostingLine, PostingLine.account_id == Account.id)
        .where(Account.kind == AccountKind.payable, Account.currency == currency)
        .group_by(Account.member_id)
    ).all()
    return {int(member): int(total) for member, total in rows if member is not None}


def payout_threshold(session: Session, currency: str) -> int:
    """The policy's ``payout_threshold`` for a batch in ``currency`` (minor units). It is set
    in the cooperative's currency; batches in any other have none (no exchange rates)."""
    policy = pay.current_policy(session)
    return policy.payout_threshold if policy.currency == currency else 0


def open_batch(session: Session, currency: str) -> PayoutBatch | None:
    return session.scalar(select(PayoutBatch).where(PayoutBatch.open_key == currency))


def create_batch(
    session: Session,
    clock: Clock,
    actor: Member,
    currency: str,
    *,
    minimum: int = 0,
    request_key: str | None = None,
) -> tuple[PayoutBatch, bool]:
    """Pay out every member's payable balance (> 0, ≥ ``minimum`` and ≥ the policy's
    ``payout_threshold``) to their payout method. A balance below the threshold is left out
    and stays payable: nothing is lost, a later batch pays it once it has grown.

    Returns ``(batch, created)``. At most one batch per currency is open (not yet paid): while
    one is, or when ``request_key`` names an earlier request, that batch is returned with
    ``created=False`` and nothing moves. The claim is an insert under a unique constraint
    (``open_key``), so concurrent requests on any backend create exactly one batch: the
    losers' inserts fail (PostgreSQL waits for the winner's commit), and they return the
    winner's batch. ``409 nothing_to_pay`` when no member is owed anything, ``409
    below_threshold`` when members are owed, but each less than the threshold.
    """
    rules.require_treasurer(actor)
    check_currency(currency)
    if minimum < 0:
        raise ValidationFailed.field("minimum", "must not be negative")
    existing = _existing(session, currency, request_key)
    if existing is not None:
        return existing, False
    batch = PayoutBatch(
        currency=currency,
        state=BatchState.open,
        open_key=currency,
        request_key=request_key,
        total=0,
        line_count=0,
        created_by_id=actor.id,
        created_at=clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(batch)
    except IntegrityError:
        existing = _existing(session, currency, request_key)
        if existing is None:  # pragma: no cover - the winner rolled back; ask to retry
            raise Conflict("another payout batch is being made; retry", code="batch_busy") from None
        return existing, False
    threshold = payout_threshold(session, currency)
    _fill(session, clock, batch, max(minimum, threshold))
    if batch.line_count == 0:
        _nothing_to_pay(session, currency, minimum, threshold)
    return batch, True


def _nothing_to_pay(session: Session, currency: str, minimum: int, threshold: int) -> None:
    """Why an empty batch is refused: nobody is owed, or everyone owed is under the
    policy's threshold (then say so, with the threshold: their balances are kept)."""
    balances = payable_balances(session, currency)
    methods = set(
        session.scalars(
            select(PayoutMethod.member_id).where(PayoutMethod.member_id.in_(list(balances)))
        )
    )
    if threshold > minimum and rules.below_threshold(balances, methods, threshold):
        raise Conflict(
            f"every balance owed in {currency} is below the payout threshold of "
            f"{Money(threshold, currency)}; it stays payable until it reaches it",
            code="below_threshold",
            details={"threshold": threshold, "currency": currency},
        )
    raise Conflict(f"no member is owed anything in {currency}", code="nothing_to_pay")


def _existing(session: Session, currency: str, request_key: str | None) -> PayoutBatch | None:
    if request_key is not None:
        earlier = session.scalar(select(PayoutBatch).where(PayoutBatch.request_key == request_key))
        if earlier is not None:
            if earlier.currency != currency:
                raise Conflict(
                    "this Idempotency-Key was used for another request",
                    code="idempotency_key_reused",
                )
            return earlier
    return open_batch(session, currency)


def _fill(session: Session, clock: Clock, batch: PayoutBatch, minimum: int) -> None:
    """One ``payout`` posting (payable → clearing) and one line per member owed."""
    currency = batch.currency
    balances = payable_balances(session, currency)
    methods = {
        m.member_id: m
        for m in session.scalars(
            select(PayoutMethod).where(PayoutMethod.member_id.in_(list(balances)))
        )
    }
    pseudonyms = {
        int(member_id): str(pseudonym)
        for member_id, pseudonym in session.execute(
            select(Member.id, Member.pseudonym).where(Member.id.in_(list(methods)))
        )
    }
    clearing = postings.account(session, clock, AccountKind.clearing, currency)
    for owed in rules.payable_lines(balances, set(methods), minimum):
        payable = postings.account(
            session, clock, AccountKind.payable, currency, member_id=owed.member_id
        )
        salt = secrets.token_bytes(16)
        label = rules.payout_label(salt, batch.id, pseudonyms[owed.member_id])
        posting = postings.post(
            session,
            clock,
            "payout",
            [postings.Line(payable, -owed.amount), postings.Line(clearing, owed.amount)],
            key=f"payout:{batch.id}:{owed.member_id}",
            labels={payable.id: label},
        )
        method = methods[owed.member_id]
        session.add(
            PayoutLine(
                batch_id=batch.id,
                member_id=owed.member_id,
                amount=owed.amount,
                currency=currency,
                method=method.kind,
                details=dict(method.details),
                posting_id=posting.id,
                label_salt=salt.hex(),
            )
        )
        batch.total += owed.amount
        batch.line_count += 1
    session.flush()


def weekly_batch(
    session: Session, clock: Clock, actor: Member, currency: str, *, minimum: int = 0
) -> PayoutBatch | None:
    """The weekly run (for a scheduler or cron calling the CLI): a batch unless one was made
    in the last seven days, one is still open, or nobody is owed anything (then None)."""
    rules.require_treasurer(actor)
    check_currency(currency)
    since = clock.now() - WEEK
    recent = session.scalar(
        select(PayoutBatch.id).where(
            PayoutBatch.currency == currency, PayoutBatch.created_at > since
        )
    )
    if recent is not None or open_batch(session, currency) is not None:
        return None
    try:
        with session.begin_nested():
            batch, created = create_batch(session, clock, actor, currency, minimum=minimum)
    except Conflict as exc:
        if exc.code in ("nothing_to_pay", "below_threshold"):
            return None
        raise
    return batch if created else None


def mark_paid(session: Session, clock: Clock, actor: Member, batch_id: int) -> PayoutBatch:
    """Record that the bank executed the batch: clearing → paid out, once. A second call, or
    a concurrent one, is ``409 already_paid``: the conditional update changes one row only
    once, and the posting's unique key backs it up."""
    rules.require_treasurer(actor)
    batch = get_batch(session, batch_id)
    now = clock.now()
    result = session.connection().execute(
        update(PayoutBatch.__table__)  # type: ignore[arg-type]
        .where(
            PayoutBatch.__table__.c.id == batch_id,
            PayoutBatch.__table__.c.state == BatchState.open.value,
        )
        .values(state=BatchState.paid.value, open_key=None, paid_at=now, paid_by_id=actor.id)
    )
    changed = result.rowcount
    if changed != 1:
        raise Conflict(f"payout batch {batch_id} is already paid", code="already_paid")
    session.refresh(batch)
    clearing = postings.account(session, clock, AccountKind.clearing, batch.currency)
    paid_out = postings.account(session, clock, AccountKind.paid_out, batch.currency)
    postings.post(
        session,
        clock,
        "payout_paid",
        [postings.Line(clearing, -batch.total), postings.Line(paid_out, batch.total)],
        key=f"payout:{batch.id}:paid",
    )
    return batch


def get_batch(session: Session, batch_id: int) -> PayoutBatch:
    batch = session.get(PayoutBatch, batch_id)
    if batch is None:
        raise NotFound(f"no payout batch {batch_id}", code="batch_not_found")
    return batch


def list_batches(session: Session, actor: Member) -> list[PayoutBatch]:
    rules.require_treasurer(actor)
    return list(session.scalars(select(PayoutBatch).order_by(PayoutBatch.id.desc())))


def batch_for_treasurer(session: Session, actor: Member, batch_id: int) -> PayoutBatch:
    rules.require_treasurer(actor)
    return get_batch(session, batch_id)


def lines_of(session: Session, batch: PayoutBatch) -> list[PayoutLine]:
    return list(
        session.scalars(
            select(PayoutLine).where(PayoutLine.batch_id == batch.id).order_by(PayoutLine.id)
        )
    )


def log_label(line: PayoutLine, member: Member) -> str | None:
    """The name the log gives the member in this line's ``payout`` posting (None for a line
    made before labels were salted: that entry names the member's pseudonym)."""
    if line.label_salt is None:
        return None
    return rules.payout_label(bytes.fromhex(line.label_salt), line.batch_id, member.pseudonym)


def posting_log_index(session: Session, line: PayoutLine) -> int:
    posting = session.get(Posting, line.posting_id)
    assert posting is not None
    return posting.log_index


def payouts_of(session: Session, member: Member) -> list[tuple[PayoutLine, PayoutBatch]]:
    """The member's own payouts, newest first."""
    rows = session.execute(
        select(PayoutLine, PayoutBatch)
        .join(PayoutBatch, PayoutBatch.id == PayoutLine.batch_id)
        .where(PayoutLine.member_id == member.id)
        .order_by(PayoutLine.id.desc())
    ).all()
    return [(line, batch) for line, batch in rows]
