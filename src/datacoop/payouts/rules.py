"""Pure decisions about payouts: is a payout method valid, who may run batches, which
payable balances a batch takes, which lines go to the SEPA file, how a payout is named in
the public log."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from datacoop.algorithms.ledger import canonical_json
from datacoop.errors import PermissionDenied, ValidationFailed
from datacoop.members.models import Member, Role
from datacoop.payouts.models import PayoutKind

# E.164: a plus, a country code and subscriber number, 8 to 15 digits in all.
_PHONE = re.compile(r"^\+[1-9][0-9]{7,14}$")
_PHONE_NOISE = re.compile(r"[\s\-().]")
MAX_NAME = 70  # the longest creditor name a SEPA file carries
MAX_TEXT = 500


def require_treasurer(member: Member) -> None:
    """Only a steward (the cooperative's treasurer) runs payout batches and marks them paid."""
    if member.role is not Role.steward:
        raise PermissionDenied("only a steward can run payout batches")


def _text(raw: dict[str, Any], field: str, limit: int, *, required: bool = True) -> str | None:
    value = raw.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed.field(field, "is required")
        return None
    if not isinstance(value, str):
        raise ValidationFailed.field(field, "must be a string")
    value = " ".join(value.split())
    if len(value) > limit:
        raise ValidationFailed.field(field, f"at most {limit} characters")
    return value


def _sepa(raw: dict[str, Any]) -> dict[str, Any]:
    holder = _text(raw, "account_holder", MAX_NAME)
    iban_text = _text(raw, "iban", 50)
    try:
        iban = IBAN(iban_text or "")
    except SchwiftyException as exc:
        raise ValidationFailed.field("iban", f"not a valid IBAN ({exc})") from None
    if not iban.in_sepa_zone:
        raise ValidationFailed.field("iban", "this IBAN's country is outside the SEPA zone")
    bic_text = _text(raw, "bic", 11, required=False)
    bic: str | None
    if bic_text is not None:
        try:
            bic = str(BIC(bic_text).compact)
        except SchwiftyException as exc:
            raise ValidationFailed.field("bic", f"not a valid BIC ({exc})") from None
    else:
        try:
            derived = iban.bic
        except SchwiftyException:
            derived = None
        bic = None if derived is None else str(derived.compact)
    return {"account_holder": holder, "iban": str(iban.compact), "bic": bic}


def _mobile_money(raw: dict[str, Any]) -> dict[str, Any]:
    provider = _text(raw, "provider", 60)
    phone = _text(raw, "phone", 30)
    compact = _PHONE_NOISE.sub("", phone or "")
    if not _PHONE.match(compact):
        raise ValidationFailed.field(
            "phone", "an international number with country code, such as +254712345678"
        )
    name = _text(raw, "account_holder", MAX_NAME, required=False)
    return {"provider": provider, "phone": compact, "account_holder": name}


def _other(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "instructions": _text(raw, "instructions", MAX_TEXT),
        "account_holder": _text(raw, "account_holder", MAX_NAME, required=False),
    }


_CHECKS = {
    PayoutKind.sepa: _sepa,
    PayoutKind.mobile_money: _mobile_money,
    PayoutKind.other: _other,
}
_FIELDS = {
    PayoutKind.sepa: {"account_holder", "iban", "bic"},
    PayoutKind.mobile_money: {"provider", "phone", "account_holder"},
    PayoutKind.other: {"instructions", "account_holder"},
}


def check_method(kind: str, raw: dict[str, Any]) -> tuple[PayoutKind, dict[str, Any]]:
    """The payout method in canonical form, or ``ValidationFailed`` naming the bad field.

    >>> check_method("sepa", {"account_holder": "A. Member", "iban": "DE89 3704 0044 0532 0130 00"})
    (<PayoutKind.sepa: 'sepa'>, {'account_holder': 'A. Member', 'iban': 'DE89370400440532013000', 'bic': 'COBADEFFXXX'})
    """
    try:
        method = PayoutKind(kind)
    except ValueError:
        raise ValidationFailed.field(
            "kind", f"one of {', '.join(k.value for k in PayoutKind)}"
        ) from None
    unknown = sorted(set(raw) - _FIELDS[method])
    if unknown:
        raise ValidationFailed.field(unknown[0], f"not a field of a {method.value} payout method")
    return method, _CHECKS[method](raw)


def masked(kind: PayoutKind, details: dict[str, Any]) -> dict[str, Any]:
    """The method with its account number or phone shortened to its last four characters,
    for lists and screens that need not show it whole."""
    shown = dict(details)
    for field in ("iban", "phone"):
        value = shown.get(field)
        if isinstance(value, str) and len(value) > 4:
            shown[field] = "•" * (len(value) - 4) + value[-4:]
    return shown


@dataclass(frozen=True)
class Owed:
    member_id: int
    amount: int


def payable_lines(balances: dict[int, int], has_method: set[int], minimum: int) -> list[Owed]:
    """Which members a batch pays: a balance above zero and at least ``minimum`` (the
    policy's ``payout_threshold``, 0 by default: no threshold), and a payout method to pay it
    to. Ordered by member id.

    >>> payable_lines({1: 500, 2: 0, 3: 20, 4: 900}, {1, 3}, 0)
    [Owed(member_id=1, amount=500), Owed(member_id=3, amount=20)]
    """
    return [
        Owed(member, amount)
        for member, amount in sorted(balances.items())
        if amount > 0 and amount >= minimum and member in has_method
    ]


def below_threshold(balances: dict[int, int], has_method: set[int], minimum: int) -> list[Owed]:
    """Members a batch leaves out only because their balance is under ``minimum``: above
    zero, with a payout method. Their balance stays payable for a later batch.

    >>> below_threshold({1: 500, 2: 0, 3: 20, 4: 90}, {1, 2, 3}, 100)
    [Owed(member_id=3, amount=20)]
    """
    return [
        Owed(member, amount)
        for member, amount in sorted(balances.items())
        if 0 < amount < minimum and member in has_method
    ]


def sepa_eligible(currency: str, method: PayoutKind) -> bool:
    """A line goes into the SEPA credit transfer file when it is a SEPA method paid in EUR;
    everything else is a CSV row only."""
    return currency == "EUR" and method is PayoutKind.sepa


def payout_label(salt: bytes, batch_id: int, pseudonym: str) -> str:
    """The name of a member's payable account in the log entry of one payout line:

    ``payable:`` + hex(SHA-256(salt || canonical_json({"v": 1, "batch": batch_id,
    "member": pseudonym})))

    A payout has no project, so the per-project contributor id cannot name the member; their
    global pseudonym would let anyone reading the log link all their payouts. The 16-byte
    ``salt`` is random per line, stored with it and shown only to the member, so labels of
    different batches are unlinkable to everyone else, while the member (or anyone they
    give the salt to) can recompute theirs. It is a salted commitment, like
    ``answer_sha256`` in ``submission:accepted``.

    >>> payout_label(bytes(16), 3, "calm-otter-42")
    'payable:16ba015adab871f61a29ac395bd22b03185b24ca6cfc1233865c32386036dddc'
    """
    body = canonical_json({"v": 1, "batch": batch_id, "member": pseudonym})
    return "payable:" + hashlib.sha256(salt + body).hexdigest()
