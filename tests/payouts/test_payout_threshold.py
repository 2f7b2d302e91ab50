"""The payout threshold, a policy row (0 by default), on both backends: set by API and CLI,
a negative or foreign-currency threshold refused with nothing stored, members below it left
out of a batch with their balance kept, and a batch nobody reaches answered 409
``below_threshold`` naming the threshold."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from datacoop.members.models import Member
from datacoop.pay import postings
from datacoop.pay import services as pay
from datacoop.pay.models import AccountKind, PayPolicy
from datacoop.pay.money import Money
from datacoop.payouts import services as payouts

IBAN = "DE89370400440532013000"


def _owed(client, api, n: int, amount: int) -> tuple[dict[str, str], int]:
    """A member with a SEPA payout method, owed ``amount`` USD cents."""
    email = f"owed{n}@example.org"
    h = api.user("member", email=email)
    r = client.put(
        "/api/v1/payouts/method",
        json={"kind": "sepa", "account_holder": f"P{n}", "iban": IBAN},
        headers=h,
    )
    assert r.status_code == 200, r.text
    ctx = client.app.state.ctx
    with ctx.sessions() as s:
        member = s.scalar(select(Member).where(Member.email == email))
        reserve = postings.account(s, ctx.clock, AccountKind.reserve, "USD")
        payable = postings.account(s, ctx.clock, AccountKind.payable, "USD", member_id=member.id)
        postings.post(
            s,
            ctx.clock,
            "test_credit",
            [postings.Line(reserve, -amount), postings.Line(payable, amount)],
        )
        s.commit()
        return h, member.id


def _owed_now(client, member_id: int) -> int:
    with client.app.state.ctx.sessions() as s:
        return postings.balance_of(s, AccountKind.payable, "USD", member_id=member_id).amount


def _policies(client) -> int:
    with client.app.state.ctx.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(PayPolicy)) or 0)


def test_the_threshold_is_policy_zero_by_default_and_checked(client, api):
    steward = api.user("steward")
    policy = client.get("/api/v1/pay/policy", headers=api.user()).json()
    assert policy["payout_threshold"] == {"amount": 0, "currency": "USD", "display": "0.00 USD"}
    before = _policies(client)
    r = client.put("/api/v1/pay/policy", headers=steward, json={"payout_threshold": "-1.00"})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "payout_threshold"
    r = client.put("/api/v1/pay/policy", headers=steward, json={"payout_threshold": 5})
    assert r.status_code == 422  # a JSON number could mean cents or units
    assert _policies(client) == before
    r = client.put("/api/v1/pay/policy", headers=steward, json={"payout_threshold": "5.00"})
    assert r.status_code == 200, r.text
    assert r.json()["payout_threshold"]["amount"] == 500
    assert r.json()["floor_hourly"]["amount"] == 1500  # the rest carried over
    assert _policies(client) == before + 1
    from datacoop.log.models import LogEntry

    with client.app.state.ctx.sessions() as s:
        entry = s.scalars(select(LogEntry).order_by(LogEntry.index.desc()).limit(1)).one()
        assert '"kind":"pay:policy"' in entry.payload and '"payout_threshold":500' in entry.payload


def test_the_service_refuses_a_negative_or_foreign_threshold(client, api):
    from datacoop.errors import ValidationFailed
    from datacoop.pay.money import CurrencyMismatch

    api.user("steward", email="st@example.org")
    ctx = client.app.state.ctx
    with ctx.sessions() as s:
        steward = s.scalar(select(Member).where(Member.email == "st@example.org"))
        with pytest.raises(ValidationFailed) as caught:
            pay.set_policy(s, ctx.clock, steward, payout_threshold=Money(-1, "USD"))
        assert caught.value.details == [
            {"field": "payout_threshold", "message": "must not be negative"}
        ]
        with pytest.raises(CurrencyMismatch):
            pay.set_policy(s, ctx.clock, steward, payout_threshold=Money(500, "EUR"))
        assert pay.current_policy(s).payout_threshold == 0
        s.rollback()


def test_members_below_the_threshold_wait_for_a_later_batch(client, api):
    steward = api.user("steward")
    _, small = _owed(client, api, 1, 300)
    _, big = _owed(client, api, 2, 700)
    r = client.put("/api/v1/pay/policy", headers=steward, json={"payout_threshold": "5.00"})
    assert r.status_code == 200
    r = client.post("/api/v1/payouts/batches", json={"currency": "USD"}, headers=steward)
    assert r.status_code == 201, r.text
    batch = r.json()
    assert [x["amount"]["amount"] for x in batch["lines"]] == [700]
    assert _owed_now(client, small) == 300  # left out, nothing lost
    assert client.post(f"/api/v1/payouts/batches/{batch['id']}/paid", headers=steward)

    # Only the small balance is owed now, and it is below the threshold: a clear 409.
    r = client.post("/api/v1/payouts/batches", json={"currency": "USD"}, headers=steward)
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "below_threshold"
    assert "5.00 USD" in error["message"]
    assert error["details"] == {"threshold": 500, "currency": "USD"}
    assert _owed_now(client, small) == 300

    # The weekly run (for cron) quietly does nothing rather than failing.
    ctx = client.app.state.ctx
    with ctx.sessions() as s:
        who = s.get(Member, steward_id(s))
        assert payouts.weekly_batch(s, ctx.clock, who, "USD") is None
        s.rollback()

    # Once it grows past the threshold it is paid, whole.
    ctx = client.app.state.ctx
    with ctx.sessions() as s:
        reserve = postings.account(s, ctx.clock, AccountKind.reserve, "USD")
        payable = postings.account(s, ctx.clock, AccountKind.payable, "USD", member_id=small)
        postings.post(
            s, ctx.clock, "test_credit", [postings.Line(reserve, -200), postings.Line(payable, 200)]
        )
        s.commit()
    r = client.post("/api/v1/payouts/batches", json={"currency": "USD"}, headers=steward)
    assert r.status_code == 201 and [x["amount"]["amount"] for x in r.json()["lines"]] == [500]
    assert _owed_now(client, small) == 0


def test_the_threshold_does_not_apply_to_another_currency(client, api):
    steward = api.user("steward")
    h = api.user("member", email="eur@example.org")
    client.put(
        "/api/v1/payouts/method",
        json={"kind": "sepa", "account_holder": "E", "iban": IBAN},
        headers=h,
    )
    ctx = client.app.state.ctx
    with ctx.sessions() as s:
        member = s.scalar(select(Member).where(Member.email == "eur@example.org"))
        reserve = postings.account(s, ctx.clock, AccountKind.reserve, "EUR")
        payable = postings.account(s, ctx.clock, AccountKind.payable, "EUR", member_id=member.id)
        postings.post(
            s, ctx.clock, "test_credit", [postings.Line(reserve, -100), postings.Line(payable, 100)]
        )
        s.commit()
    client.put("/api/v1/pay/policy", headers=steward, json={"payout_threshold": "5.00"})
    r = client.post("/api/v1/payouts/batches", json={"currency": "EUR"}, headers=steward)
    assert r.status_code == 201 and r.json()["total"]["amount"] == 100  # no exchange rates


def steward_id(s) -> int:
    from datacoop.members.models import Role

    return int(s.scalar(select(Member.id).where(Member.role == Role.steward).limit(1)))


def test_cli_sets_and_shows_the_threshold(tmp_path, database_url, monkeypatch):
    from datacoop.cli import app

    monkeypatch.setenv("DATACOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATACOOP_DATABASE_URL", database_url)
    monkeypatch.setenv("DATACOOP_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("DATACOOP_ARGON2_MEMORY_KIB", "8")
    runner = CliRunner()

    def cli(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    assert cli("init").exit_code == 0
    assert "payout minimum: 0.00 USD" in cli("pay", "policy").output
    r = cli("pay", "policy", "--payout-threshold", "-1")
    assert r.exit_code != 0 and "must not be negative" in r.output
    r = cli("pay", "policy", "--payout-threshold", "5.00")
    assert r.exit_code == 0, r.output
    assert "payout minimum: 5.00 USD" in r.output
