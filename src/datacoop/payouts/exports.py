"""A payout batch as files for the bank: CSV (every line, any method) and a SEPA credit
transfer (pain.001.001.03, built with ``sepaxml``) for the EUR lines paid to an IBAN.

Both carry personal data (names, IBANs, phone numbers): they are for the treasurer's hands
and the bank, and nothing here is logged.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sepaxml import SepaTransfer
from sqlalchemy import select
from sqlalchemy.orm import Session

from datacoop.errors import Conflict, ValidationFailed
from datacoop.members.models import Member
from datacoop.pay.money import Money
from datacoop.payouts import rules
from datacoop.payouts.models import PayoutBatch, PayoutLine
from datacoop.payouts.services import lines_of

CSV_COLUMNS = (
    "batch",
    "line",
    "member",
    "method",
    "amount",
    "amount_minor",
    "currency",
    "account_holder",
    "iban",
    "bic",
    "provider",
    "phone",
    "instructions",
    "reference",
    "in_sepa_file",
)


@dataclass(frozen=True)
class Debtor:
    """The cooperative's own account, which the SEPA transfers are paid from."""

    name: str
    iban: str
    bic: str | None = None

    @classmethod
    def checked(cls, name: str | None, iban: str | None, bic: str | None = None) -> Debtor:
        if not name or not name.strip():
            raise ValidationFailed.field(
                "debtor_name", "the cooperative's account holder name is required for SEPA"
            )
        if not iban:
            raise ValidationFailed.field(
                "debtor_iban", "the cooperative's IBAN is required for SEPA"
            )
        try:
            parsed = IBAN(iban)
        except SchwiftyException as exc:
            raise ValidationFailed.field("debtor_iban", f"not a valid IBAN ({exc})") from None
        return cls(name=" ".join(name.split())[:70], iban=str(parsed.compact), bic=bic or None)


def _text_cell(value: object) -> str:
    """Free text a member typed, made inert for spreadsheets: a cell starting with ``=``,
    ``+``, ``-``, ``@`` or a control character would run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def reference(line: PayoutLine) -> str:
    return f"datacoop payout {line.batch_id}-{line.id}"


def pseudonyms(session: Session, lines: list[PayoutLine]) -> dict[int, str]:
    ids = [line.member_id for line in lines]
    rows = session.execute(select(Member.id, Member.pseudonym).where(Member.id.in_(ids))).all()
    return {int(member_id): str(pseudonym) for member_id, pseudonym in rows}


def to_csv(session: Session, batch: PayoutBatch) -> str:
    """Every line of the batch, one CSV row each (amounts as decimal strings and in minor
    units); ``in_sepa_file`` says whether the line is also in the SEPA XML."""
    lines = lines_of(session, batch)
    who = pseudonyms(session, lines)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        d = line.details
        writer.writerow(
            [
                batch.id,
                line.id,
                who.get(line.member_id, ""),
                line.method.value,
                Money(line.amount, line.currency).decimal(),
                line.amount,
                line.currency,
                _text_cell(d.get("account_holder")),
                d.get("iban") or "",
                d.get("bic") or "",
                _text_cell(d.get("provider")),
                d.get("phone") or "",
                _text_cell(d.get("instructions")),
                reference(line),
                "yes" if rules.sepa_eligible(line.currency, line.method) else "no",
            ]
        )
    return out.getvalue()


def sepa_lines(session: Session, batch: PayoutBatch) -> list[PayoutLine]:
    return [
        line for line in lines_of(session, batch) if rules.sepa_eligible(line.currency, line.method)
    ]


def to_sepa_xml(
    session: Session, batch: PayoutBatch, debtor: Debtor, execution_date: date
) -> bytes:
    """A pain.001.001.03 credit transfer of the batch's EUR SEPA lines, validated against
    the schema by ``sepaxml``. ``409 no_sepa_lines`` when the batch has none."""
    lines = sepa_lines(session, batch)
    if not lines:
        raise Conflict(
            f"payout batch {batch.id} has no EUR lines paid by SEPA; use the CSV",
            code="no_sepa_lines",
        )
    config: dict[str, object] = {
        "name": debtor.name,
        "IBAN": debtor.iban,
        "batch": True,
        "currency": "EUR",
    }
    if debtor.bic:
        config["BIC"] = debtor.bic
    transfer = SepaTransfer(config, clean=True)
    for line in lines:
        d = line.details
        payment: dict[str, object] = {
            "name": d["account_holder"],
            "IBAN": d["iban"],
            "amount": line.amount,  # sepaxml takes integer cents
            "execution_date": execution_date,
            "description": reference(line),
            "endtoend_id": f"DATACOOP-{line.batch_id}-{line.id}",
        }
        if d.get("bic"):
            payment["BIC"] = d["bic"]
        transfer.add_payment(payment)
    xml: bytes = transfer.export(validate=True)
    return xml
