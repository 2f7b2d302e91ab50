"""Payouts in the earnings statement, payout log labels a member can verify but nobody can
link, and a payable balance below zero (a withholding after a payout), on both backends."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select

from datacoop.db.uow import UnitOfWork
from datacoop.errors import Conflict
from datacoop.log.models import LogEntry
from datacoop.members import services as members
from datacoop.members.models import Member, Role
from datacoop.members.passwords import make_hasher
from datacoop.pay import postings
from datacoop.pay.models import AccountKind
from datacoop.payouts import rules
from datacoop.payouts import services as payouts
from datacoop.payouts.models import PayoutLine

SPEC = {"pay_per_item": 10, "estimated_seconds": 60, "overlap": 2, "lease_seconds": 600}
PHONE = {"kind": "mobile_money", "provider": "M-Pesa", "phone": "+254712345678"}


def _usd(amount: int) -> dict:
    whole, cents = divmod(abs(amount), 100)
    sign = "-" if amount < 0 else ""
    return {"amount": amount, "currency": "USD", "display": f"{sign}{whole}.{cents:02d} USD"}


def _worked_project(client, api, clock, worker) -> int:
    """A funded project in which ``worker`` did one task for two minutes (0.50 at the floor)."""
    req = api.user("requester")
    pid = api.project(req, **SPEC)["id"]
    api.items(req, pid, "id,text\n" + "".join(f"i{i},thing {i}\n" for i in range(3)))
    client.post(f"/api/v1/projects/{pid}/pay/fund", headers=req, json={"amount": "1.74"})
    assert client.post(f"/api/v1/projects/{pid}/pay/launch", headers=req).status_code == 200
    aid = client.post(f"/api/v1/projects/{pid}/next", headers=worker).json()["assignment_id"]
    for _ in range(12):
        clock.advance(10)
        client.post(f"/api/v1/assignments/{aid}/heartbeat", headers=worker)
    r = client.post(
        "/api/v1/submissions", headers=worker, json={"assignment_id": aid, "answer": "red"}
    )
    assert r.status_code == 201, r.text
    assert client.post(f"/api/v1/projects/{pid}/pay/settle", headers=req).status_code == 200
    return int(pid)


def _member(client, email: str) -> tuple[int, str]:
    with client.app.state.ctx.sessions() as s:
        m = s.scalar(select(Member).where(Member.email == email))
        return m.id, m.pseudonym


def test_the_earnings_statement_shows_payouts_open_then_paid(client, api, clock):
    worker = api.user(email="worker@example.org")
    steward = api.user("steward")
    pid = _worked_project(client, api, clock, worker)
    assert client.put("/api/v1/payouts/method", headers=worker, json=PHONE).status_code == 200
    url = f"/api/v1/projects/{pid}/pay/statement/me"
    before = client.get(url, headers=worker).json()
    assert before["total_paid"] == _usd(50) and before["payable_balance"] == _usd(50)
    assert before["payouts"] == []

    batch = client.post("/api/v1/payouts/batches", headers=steward, json={"currency": "USD"})
    assert batch.status_code == 201, batch.text
    bid = batch.json()["id"]
    me = client.get(url, headers=worker).json()
    assert me["payable_balance"] == _usd(0)
    assert me["payout_open"] == _usd(50) and me["paid_out"] == _usd(0)
    assert me["payouts"] == [
        {
            "batch_id": bid,
            "state": "open",
            "amount": _usd(50),
            "created_at": batch.json()["created_at"],
            "paid_at": None,
        }
    ]
    assert me["total_paid"] == _usd(50)  # what was earned does not change when it is paid out

    assert client.post(f"/api/v1/payouts/batches/{bid}/paid", headers=steward).status_code == 200
    me = client.get(url, headers=worker).json()
    assert me["payout_open"] == _usd(0) and me["paid_out"] == _usd(50)
    assert me["payouts"][0]["state"] == "paid" and me["payouts"][0]["paid_at"] is not None


def test_payout_log_entries_name_no_member_and_the_member_can_check_their_label(client, api, clock):
    worker = api.user(email="worker@example.org")
    steward = api.user("steward")
    member_id, pseudonym = _member(client, "worker@example.org")
    assert client.put("/api/v1/payouts/method", headers=worker, json=PHONE).status_code == 200
    labels = []
    for _ in range(2):  # two batches for the same member
        _worked_project(client, api, clock, worker)
        bid = client.post(
            "/api/v1/payouts/batches", headers=steward, json={"currency": "USD"}
        ).json()["id"]
        assert client.post(f"/api/v1/payouts/batches/{bid}/paid", headers=steward).is_success
        mine = client.get("/api/v1/payouts/me", headers=worker).json()[0]
        assert mine["batch_id"] == bid
        with client.app.state.ctx.sessions() as s:
            entry = s.scalar(select(LogEntry).where(LogEntry.index == mine["log_index"]))
            payout_entries = [
                e.payload
                for e in s.scalars(select(LogEntry))
                if '"posting_kind":"payout' in e.payload
            ]
        body = json.loads(entry.payload)
        assert body["posting_kind"] == "payout" and body["project"] is None
        payable = [name for name, amount in body["lines"] if amount < 0]
        assert payable == [mine["log_label"]]
        # The member recomputes it from the salt, as docs/ledger.md says.
        salt = bytes.fromhex(mine["label_salt"])
        canonical = json.dumps(
            {"v": 1, "batch": bid, "member": pseudonym}, sort_keys=True, separators=(",", ":")
        ).encode()
        assert mine["log_label"] == "payable:" + hashlib.sha256(salt + canonical).hexdigest()
        assert mine["log_label"] == rules.payout_label(salt, bid, pseudonym)
        labels.append(mine["log_label"])
        for payload in payout_entries:
            assert pseudonym not in payload
            assert f"member:{member_id}" not in payload
    assert labels[0] != labels[1]  # unlinkable across batches
    # The steward's view of a batch does not carry the salt.
    with client.app.state.ctx.sessions() as s:
        assert all(len(line.label_salt) == 32 for line in s.scalars(select(PayoutLine)))
    batch = client.get(f"/api/v1/payouts/batches/{bid}", headers=steward).json()
    assert "label_salt" not in json.dumps(batch)


def test_a_payable_below_zero_is_skipped_and_made_up_by_later_earnings(engine, clock):
    """Withholding after a payout leaves the member's payable below zero: no batch pays them
    until later earnings bring it above zero, and the batch pays only the difference."""
    hasher = make_hasher(time_cost=1, memory_kib=8)

    def user(s, email: str, role: Role = Role.member) -> Member:
        return members.register(
            s,
            clock,
            hasher,
            email=email,
            password="correct horse battery",
            display_name="someone",
            role=role,
        )

    def move(s, member_id: int, amount: int) -> None:
        reserve = postings.account(s, clock, AccountKind.reserve, "USD")
        payable = postings.account(s, clock, AccountKind.payable, "USD", member_id=member_id)
        postings.post(
            s, clock, "test", [postings.Line(reserve, -amount), postings.Line(payable, amount)]
        )

    with UnitOfWork(engine, clock=clock) as s:
        steward = user(s, "s@example.org", Role.steward)
        worker = user(s, "w@example.org")
        payouts.set_method(s, clock, worker, "other", {"instructions": "cash"})
        move(s, worker.id, 1000)
        first, _ = payouts.create_batch(s, clock, steward, "USD")
        payouts.mark_paid(s, clock, steward, first.id)
        move(s, worker.id, -300)  # taken back after the money left
        owed = postings.balance_of(s, AccountKind.payable, "USD", member_id=worker.id)
        assert owed.amount == -300
        with pytest.raises(Conflict) as refused, s.begin_nested():
            payouts.create_batch(s, clock, steward, "USD")
        assert refused.value.code == "nothing_to_pay"
        assert payouts.weekly_batch(s, clock, steward, "USD") is None
        move(s, worker.id, 500)
        clock.advance(8 * 86_400)
        second, created = payouts.create_batch(s, clock, steward, "USD")
        assert created and second.total == 200 and second.line_count == 1
        assert postings.balance_of(s, AccountKind.payable, "USD", member_id=worker.id).amount == 0
        assert set(postings.totals(s).values()) == {0}
