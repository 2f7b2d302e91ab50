"""Payouts over HTTP: payout methods, a batch from payable balances, its CSV and SEPA
exports, marking it paid exactly once, and the ledger still summing to zero."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

from sqlalchemy import func, select

from datacoop.members.models import Member
from datacoop.pay import postings
from datacoop.pay.models import AccountKind
from datacoop.payouts.models import PayoutBatch

IBANS = ["DE89370400440532013000", "FR1420041010050500013M02606"]
DEBTOR = {"debtor_name": "Datacoop eG", "debtor_iban": "DE02120300000000202051"}
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


def _credit(client, email: str, amount: int, currency: str = "EUR") -> int:
    """Give a member a payable balance (from the reserve: a balanced posting)."""
    ctx = client.app.state.ctx
    with ctx.sessions() as s:
        member = s.scalar(select(Member).where(Member.email == email))
        reserve = postings.account(s, ctx.clock, AccountKind.reserve, currency)
        payable = postings.account(s, ctx.clock, AccountKind.payable, currency, member_id=member.id)
        postings.post(
            s,
            ctx.clock,
            "test_credit",
            [postings.Line(reserve, -amount), postings.Line(payable, amount)],
        )
        s.commit()
        return member.id


def _member(api, n: int) -> tuple[dict[str, str], str]:
    email = f"payee{n}@example.org"
    return api.user("member", email=email), email


def _setup(api, client):
    """Three members owed money: two by SEPA (EUR), one by mobile money."""
    steward = api.user("steward")
    people = []
    for n, iban in enumerate(IBANS):
        h, email = _member(api, n)
        r = client.put(
            "/api/v1/payouts/method",
            json={"kind": "sepa", "account_holder": f"Payee {n}", "iban": iban},
            headers=h,
        )
        assert r.status_code == 200, r.text
        people.append((h, email))
    h, email = _member(api, 9)
    r = client.put(
        "/api/v1/payouts/method",
        json={"kind": "mobile_money", "provider": "M-Pesa", "phone": "+254712345678"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    people.append((h, email))
    for (_, email), amount in zip(people, [1234, 5000, 777], strict=True):
        _credit(client, email, amount)
    return steward, people


def test_an_invalid_iban_is_a_clear_422_and_nothing_is_stored(api, client):
    h, _ = _member(api, 1)
    r = client.put(
        "/api/v1/payouts/method",
        json={"kind": "sepa", "account_holder": "A", "iban": "DE88370400440532013000"},
        headers=h,
    )
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["details"][0]["field"] == "iban"
    assert client.get("/api/v1/payouts/method", headers=h).status_code == 404

    r = client.put(
        "/api/v1/payouts/method",
        json={"kind": "sepa", "account_holder": "A", "iban": "DE89 3704 0044 0532 0130 00"},
        headers=h,
    )
    assert r.status_code == 200
    body = client.get("/api/v1/payouts/method", headers=h).json()
    assert body["kind"] == "sepa"
    assert body["details"]["iban"].endswith("3000") and "37040044" not in body["details"]["iban"]
    assert body["details"]["bic"] == "COBADEFFXXX"


def test_sensitive_details_never_reach_the_log(api, client):
    steward, _ = _setup(api, client)
    r = client.post("/api/v1/payouts/batches", json={"currency": "EUR"}, headers=steward)
    assert r.status_code == 201
    from datacoop.log.models import LogEntry

    with client.app.state.ctx.sessions() as s:
        blob = " ".join(str(e.__dict__) for e in s.scalars(select(LogEntry)))
    for secret in IBANS + ["+254712345678", "Payee 0"]:
        assert secret not in blob


def test_a_batch_pays_every_balance_once_and_exports_it(api, client):
    steward, people = _setup(api, client)
    member_h = people[0][0]
    assert client.post("/api/v1/payouts/batches", json={}, headers=member_h).status_code == 403
    r = client.post("/api/v1/payouts/batches", json={"currency": "EUR"}, headers=steward)
    assert r.status_code == 201, r.text
    batch = r.json()
    assert batch["state"] == "open" and batch["line_count"] == 3
    assert batch["total"] == {"amount": 7011, "currency": "EUR", "display": "70.11 EUR"}
    assert [(x["method"], x["amount"]["amount"], x["in_sepa_file"]) for x in batch["lines"]] == [
        ("sepa", 1234, True),
        ("sepa", 5000, True),
        ("mobile_money", 777, False),
    ]
    # Asking again while it is open gives the same batch, nothing new moves.
    again = client.post("/api/v1/payouts/batches", json={"currency": "EUR"}, headers=steward)
    assert again.status_code == 200 and again.json()["id"] == batch["id"]

    ctx = client.app.state.ctx
    with ctx.sessions() as s:
        for _, email in people:
            member = s.scalar(select(Member).where(Member.email == email))
            owed = postings.balance_of(s, AccountKind.payable, "EUR", member_id=member.id)
            assert owed.amount == 0
        assert postings.balance_of(s, AccountKind.clearing, "EUR").amount == 7011
        assert set(postings.totals(s).values()) == {0}

    # CSV: every line, every method.
    r = client.get(f"/api/v1/payouts/batches/{batch['id']}/export.csv", headers=steward)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["method"], x["amount"], x["amount_minor"], x["iban"], x["phone"]) for x in rows] == [
        ("sepa", "12.34", "1234", IBANS[0], ""),
        ("sepa", "50.00", "5000", IBANS[1], ""),
        ("mobile_money", "7.77", "777", "", "+254712345678"),
    ]
    assert [x["in_sepa_file"] for x in rows] == ["yes", "yes", "no"]

    # SEPA pain.001: only the two SEPA lines, sums and IBANs right.
    r = client.get(
        f"/api/v1/payouts/batches/{batch['id']}/export.xml",
        params={**DEBTOR, "execution_date": "2026-01-05"},
        headers=steward,
    )
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)
    assert root.find("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", NS).text == "2"
    assert root.find("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", NS).text == "62.34"
    txs = root.findall(".//p:CdtTrfTxInf", NS)
    assert [t.find("p:Amt/p:InstdAmt", NS).text for t in txs] == ["12.34", "50.00"]
    assert [t.find("p:Amt/p:InstdAmt", NS).get("Ccy") for t in txs] == ["EUR", "EUR"]
    assert [t.find("p:CdtrAcct/p:Id/p:IBAN", NS).text for t in txs] == IBANS
    assert root.find(".//p:DbtrAcct/p:Id/p:IBAN", NS).text == DEBTOR["debtor_iban"]
    assert root.find(".//p:ReqdExctnDt", NS).text == "2026-01-05"

    # Without a debtor account the XML is refused, naming the missing field.
    r = client.get(f"/api/v1/payouts/batches/{batch['id']}/export.xml", headers=steward)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "debtor_name"

    # Paid once; the second time is refused and nothing moves.
    r = client.post(f"/api/v1/payouts/batches/{batch['id']}/paid", headers=steward)
    assert r.status_code == 200 and r.json()["state"] == "paid"
    r = client.post(f"/api/v1/payouts/batches/{batch['id']}/paid", headers=steward)
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_paid"
    with ctx.sessions() as s:
        assert postings.balance_of(s, AccountKind.clearing, "EUR").amount == 0
        assert postings.balance_of(s, AccountKind.paid_out, "EUR").amount == 7011
        assert set(postings.totals(s).values()) == {0}

    # Members see their own payouts; stewards list the batches.
    mine = client.get("/api/v1/payouts/me", headers=member_h).json()
    assert [(p["batch_id"], p["state"], p["amount"]["amount"]) for p in mine] == [
        (batch["id"], "paid", 1234)
    ]
    listed = client.get("/api/v1/payouts/batches", headers=steward).json()
    assert [(b["id"], b["state"]) for b in listed] == [(batch["id"], "paid")]

    # Nothing owed any more: no empty batch is made.
    r = client.post("/api/v1/payouts/batches", json={"currency": "EUR"}, headers=steward)
    assert r.status_code == 409 and r.json()["error"]["code"] == "nothing_to_pay"
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(PayoutBatch)) == 1


def test_an_idempotency_key_returns_the_same_batch(api, client):
    steward, people = _setup(api, client)
    headers = {**steward, "Idempotency-Key": "run-1"}
    first = client.post("/api/v1/payouts/batches", json={"currency": "EUR"}, headers=headers)
    assert first.status_code == 201
    client.post(f"/api/v1/payouts/batches/{first.json()['id']}/paid", headers=steward)
    _credit(client, people[0][1], 100)
    retry = client.post("/api/v1/payouts/batches", json={"currency": "EUR"}, headers=headers)
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
    other = client.post(
        "/api/v1/payouts/batches",
        json={"currency": "EUR"},
        headers={**steward, "Idempotency-Key": "run-2"},
    )
    assert other.status_code == 201 and other.json()["total"]["amount"] == 100


def test_non_eur_lines_go_to_the_csv_only(api, client):
    steward = api.user("steward")
    h, email = _member(api, 1)
    client.put(
        "/api/v1/payouts/method",
        json={"kind": "sepa", "account_holder": "A", "iban": IBANS[0]},
        headers=h,
    )
    _credit(client, email, 900, "USD")
    r = client.post("/api/v1/payouts/batches", json={"currency": "USD"}, headers=steward)
    assert r.status_code == 201 and r.json()["lines"][0]["in_sepa_file"] is False
    r = client.get(
        f"/api/v1/payouts/batches/{r.json()['id']}/export.xml", params=DEBTOR, headers=steward
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_sepa_lines"


def test_free_text_is_inert_in_the_csv(api, client):
    steward = api.user("steward")
    h, email = _member(api, 1)
    r = client.put(
        "/api/v1/payouts/method",
        json={"kind": "other", "instructions": '=HYPERLINK("http://x")', "account_holder": "Al"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    _credit(client, email, 300)
    bid = client.post("/api/v1/payouts/batches", json={}, headers=steward).json()["id"]
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(f"/api/v1/payouts/batches/{bid}/export.csv", headers=steward).text
            )
        )
    )
    assert [(x["method"], x["instructions"], x["account_holder"]) for x in rows] == [
        ("other", '\'=HYPERLINK("http://x")', "Al")
    ]
