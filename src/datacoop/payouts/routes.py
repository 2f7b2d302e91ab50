"""JSON API of payouts: a member's own payout method and payouts; a steward's batches,
their CSV and SEPA XML exports, and marking a batch paid."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Header, Query, Response
from sqlalchemy.orm import Session

from datacoop.errors import NotFound
from datacoop.pay.schemas import MoneyOut
from datacoop.payouts import exports, rules, services
from datacoop.payouts.models import PayoutBatch, PayoutMethod
from datacoop.payouts.schemas import BatchIn, BatchOut, LineOut, MethodIn, MethodOut, MyPayoutOut
from datacoop.web.deps import DB, Ctx, CurrentMember

router = APIRouter(tags=["payouts"])


def _m(amount: int, currency: str) -> MoneyOut:
    out = MoneyOut.of(amount, currency)
    assert out is not None
    return out


def method_out(m: PayoutMethod) -> MethodOut:
    return MethodOut(
        kind=m.kind.value, details=rules.masked(m.kind, m.details), updated_at=m.updated_at
    )


def batch_out(db: Session, b: PayoutBatch, *, with_lines: bool = False) -> BatchOut:
    lines = None
    if with_lines:
        rows = services.lines_of(db, b)
        who = exports.pseudonyms(db, rows)
        lines = [
            LineOut(
                id=r.id,
                member=who[r.member_id],
                method=r.method.value,
                amount=_m(r.amount, r.currency),
                details=rules.masked(r.method, r.details),
                in_sepa_file=rules.sepa_eligible(r.currency, r.method),
            )
            for r in rows
        ]
    return BatchOut(
        id=b.id,
        currency=b.currency,
        state=b.state.value,
        total=_m(b.total, b.currency),
        line_count=b.line_count,
        created_at=b.created_at,
        paid_at=b.paid_at,
        lines=lines,
    )


@router.get("/payouts/method", response_model=MethodOut)
def get_method(member: CurrentMember, db: DB) -> MethodOut:
    """Your payout method (account numbers masked); 404 until you set one."""
    found = services.get_method(db, member)
    if found is None:
        raise NotFound("you have not set a payout method", code="no_payout_method")
    return method_out(found)


@router.put("/payouts/method", response_model=MethodOut)
def set_method(body: MethodIn, member: CurrentMember, ctx: Ctx, db: DB) -> MethodOut:
    """Set your payout method: sepa (IBAN checked), mobile_money or other."""
    return method_out(services.set_method(db, ctx.clock, member, body.kind, body.fields()))


@router.get("/payouts/me", response_model=list[MyPayoutOut])
def my_payouts(member: CurrentMember, db: DB) -> list[MyPayoutOut]:
    """Your payouts, newest first, each with its log entry and the salt of its label."""
    return [
        MyPayoutOut(
            batch_id=b.id,
            state=b.state.value,
            method=line.method.value,
            amount=_m(line.amount, line.currency),
            created_at=b.created_at,
            paid_at=b.paid_at,
            log_index=services.posting_log_index(db, line),
            log_label=services.log_label(line, member),
            label_salt=line.label_salt,
        )
        for line, b in services.payouts_of(db, member)
    ]


@router.post("/payouts/batches", status_code=201, response_model=BatchOut)
def create_batch(
    body: BatchIn,
    response: Response,
    member: CurrentMember,
    ctx: Ctx,
    db: DB,
    idempotency_key: str | None = Header(default=None, max_length=100),
) -> BatchOut:
    """Pay out every payable balance (stewards). 201 when new; 200 with the batch already
    open in that currency, or the one this Idempotency-Key made."""
    batch, created = services.create_batch(
        db,
        ctx.clock,
        member,
        body.currency.upper(),
        minimum=body.minimum,
        request_key=None if idempotency_key is None else f"api:{idempotency_key}",
    )
    if not created:
        response.status_code = 200
    return batch_out(db, batch, with_lines=True)


@router.get("/payouts/batches", response_model=list[BatchOut])
def list_batches(member: CurrentMember, db: DB) -> list[BatchOut]:
    """Every payout batch, newest first (stewards)."""
    return [batch_out(db, b) for b in services.list_batches(db, member)]


@router.get("/payouts/batches/{batch_id}", response_model=BatchOut)
def get_batch(batch_id: int, member: CurrentMember, db: DB) -> BatchOut:
    """One batch with its lines (stewards)."""
    return batch_out(db, services.batch_for_treasurer(db, member, batch_id), with_lines=True)


@router.get("/payouts/batches/{batch_id}/export.csv")
def export_csv(batch_id: int, member: CurrentMember, db: DB) -> Response:
    """Every line of the batch as CSV (stewards)."""
    batch = services.batch_for_treasurer(db, member, batch_id)
    return Response(
        exports.to_csv(db, batch),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="payout-{batch.id}.csv"'},
    )


@router.get("/payouts/batches/{batch_id}/export.xml")
def export_xml(
    batch_id: int,
    member: CurrentMember,
    ctx: Ctx,
    db: DB,
    debtor_name: str | None = Query(default=None, max_length=70),
    debtor_iban: str | None = Query(default=None, max_length=50),
    debtor_bic: str | None = Query(default=None, max_length=11),
    execution_date: date | None = Query(default=None),
) -> Response:
    """The batch's EUR SEPA lines as a pain.001.001.03 credit transfer (stewards)."""
    batch = services.batch_for_treasurer(db, member, batch_id)
    s = ctx.settings
    debtor = exports.Debtor.checked(
        debtor_name or s.payout_debtor_name,
        debtor_iban or s.payout_debtor_iban,
        debtor_bic or s.payout_debtor_bic,
    )
    xml = exports.to_sepa_xml(db, batch, debtor, execution_date or ctx.clock.now().date())
    return Response(
        xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="payout-{batch.id}.xml"'},
    )


@router.post("/payouts/batches/{batch_id}/paid", response_model=BatchOut)
def mark_paid(batch_id: int, member: CurrentMember, ctx: Ctx, db: DB) -> BatchOut:
    """Confirm the bank executed the batch (stewards); 409 ``already_paid`` the second time."""
    return batch_out(db, services.mark_paid(db, ctx.clock, member, batch_id))
