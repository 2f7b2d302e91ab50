"""Payout methods are validated before they are stored; lines are chosen by pure rules."""

from __future__ import annotations

import pytest

from datacoop.errors import PermissionDenied, ValidationFailed
from datacoop.members.models import Member, Role
from datacoop.payouts import rules
from datacoop.payouts.models import PayoutKind

GOOD_IBAN = "DE89 3704 0044 0532 0130 00"
BAD_CHECKSUM = "DE88 3704 0044 0532 0130 00"


def _field(exc: pytest.ExceptionInfo[ValidationFailed]) -> str:
    return str(exc.value.details[0]["field"])


def test_a_sepa_method_is_compacted_and_gets_its_bic():
    kind, details = rules.check_method(
        "sepa", {"account_holder": "  Ada   Member ", "iban": GOOD_IBAN}
    )
    assert kind is PayoutKind.sepa
    assert details == {
        "account_holder": "Ada Member",
        "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX",
    }


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"account_holder": "A", "iban": BAD_CHECKSUM}, "iban"),
        ({"account_holder": "A", "iban": "DE89"}, "iban"),
        ({"account_holder": "A", "iban": "BR1800360305000010009795493C1"}, "iban"),
        ({"iban": GOOD_IBAN}, "account_holder"),
        ({"account_holder": "A", "iban": GOOD_IBAN, "bic": "XX"}, "bic"),
        ({"account_holder": "A", "iban": GOOD_IBAN, "phone": "+254712345678"}, "phone"),
    ],
)
def test_a_bad_sepa_method_names_the_field(raw, field):
    with pytest.raises(ValidationFailed) as exc:
        rules.check_method("sepa", raw)
    assert _field(exc) == field


def test_mobile_money_wants_an_international_number():
    _, details = rules.check_method(
        "mobile_money", {"provider": "M-Pesa", "phone": "+254 712-345 678"}
    )
    assert details == {"provider": "M-Pesa", "phone": "+254712345678", "account_holder": None}
    for phone in ("0712345678", "+0712345678", "+25471234567890123", "call me"):
        with pytest.raises(ValidationFailed) as exc:
            rules.check_method("mobile_money", {"provider": "M-Pesa", "phone": phone})
        assert _field(exc) == "phone"


def test_other_and_unknown_kinds():
    _, details = rules.check_method("other", {"instructions": "cash at the co-op office"})
    assert details["instructions"] == "cash at the co-op office"
    with pytest.raises(ValidationFailed) as exc:
        rules.check_method("other", {})
    assert _field(exc) == "instructions"
    with pytest.raises(ValidationFailed) as exc:
        rules.check_method("paypal", {})
    assert _field(exc) == "kind"


def test_masking_keeps_the_last_four():
    shown = rules.masked(PayoutKind.sepa, {"iban": "DE89370400440532013000", "bic": None})
    assert shown["iban"].endswith("3000") and "8937" not in shown["iban"]


def test_payable_lines_skip_zero_negative_below_minimum_and_no_method():
    balances = {1: 500, 2: 0, 3: 20, 4: 900, 5: -10}
    assert rules.payable_lines(balances, {1, 2, 3, 5}, 0) == [
        rules.Owed(1, 500),
        rules.Owed(3, 20),
    ]
    assert rules.payable_lines(balances, {1, 3, 4}, 100) == [
        rules.Owed(1, 500),
        rules.Owed(4, 900),
    ]


def test_only_eur_sepa_lines_go_to_the_sepa_file():
    assert rules.sepa_eligible("EUR", PayoutKind.sepa)
    assert not rules.sepa_eligible("USD", PayoutKind.sepa)
    assert not rules.sepa_eligible("EUR", PayoutKind.mobile_money)


def test_only_a_steward_runs_batches():
    rules.require_treasurer(Member(role=Role.steward))
    with pytest.raises(PermissionDenied):
        rules.require_treasurer(Member(role=Role.member))
