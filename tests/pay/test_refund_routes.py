"""Refunds and closing through the HTTP API, on both backends: whole bodies for a refund and
a close, the cost statement's ``refunded``; 403, 409 and 422 refusals move nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from datacoop.log.models import LogEntry
from datacoop.pay.models import Posting, PostingLine

# As in test_pay_routes: 0.29 reserved per task, 3 items × overlap 2 = 6 tasks = 1.74 USD.
SPEC = {"pay_per_item": 10, "estimated_seconds": 60, "overlap": 2, "lease_seconds": 600}


def _usd(amount: int) -> dict:
    whole, cents = divmod(abs(amount), 100)
    sign = "-" if amount < 0 else ""
    return {"amount": amount, "currency": "USD", "display": f"{sign}{whole}.{cents:02d} USD"}


def _scalar(client, query):
    with client.app.state.ctx.sessions() as s:
        return s.scalar(query)


def _counts(client) -> tuple[int, int]:
    return (
        _scalar(client, select(func.count()).select_from(Posting)),
        _scalar(client, select(func.count()).select_from(LogEntry)),
    )


def _funded(client, api, amount="5.00"):
    req = api.user("requester")
    project = api.project(req, **SPEC)
    api.items(req, project["id"], "id,text\n" + "".join(f"i{i},thing\n" for i in range(3)))
    pid = project["id"]
    assert client.post(f"/api/v1/projects/{pid}/pay/fund", headers=req, json={"amount": amount})
    assert client.post(f"/api/v1/projects/{pid}/pay/launch", headers=req).status_code == 200
    return req, pid


def test_refund_close_and_the_cost_statement(client, api, clock):
    req, pid = _funded(client, api)
    member = api.user()
    task = client.post(f"/api/v1/projects/{pid}/next", headers=member)
    assert task.status_code == 200  # an open lease: its 0.29 stays in escrow

    r = client.post(f"/api/v1/projects/{pid}/pay/refund", headers=req)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body == {
        "project_id": pid,
        "amount": _usd(500 - 174),
        "kept": _usd(174),
        "escrow_after": _usd(174),
        "posting": body["posting"],
        "state": "launched",
        "settlement": {
            "project_id": pid,
            "floor_hourly": _usd(1500),
            "postings": [],
            "members": [],
            "piece_total": _usd(0),
            "top_up_total": _usd(0),
            "fee_total": _usd(0),
            "escrow_after": _usd(500),
            "owed_by_requester": _usd(0),
            "state": "launched",
        },
    }
    with client.app.state.ctx.sessions() as s:
        posting = s.get(Posting, body["posting"])
        entry = s.scalars(select(LogEntry).where(LogEntry.index == posting.log_index)).one()
    assert posting.kind == "refund" and '"posting_kind":"refund"' in entry.payload
    assert f'["escrow:project:{pid}",-326]' in entry.payload

    r = client.post(f"/api/v1/projects/{pid}/pay/close", headers=req)
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed == {
        "project_id": pid,
        "state": "closed",
        "fee_bps": 1500,
        "escrow": _usd(174),
        "task_base": _usd(25),
        "task_cost": _usd(29),
        "tasks_needed": 1,
        "required": _usd(29),
        "shortfall": _usd(0),
        "reserved_tasks": 1,
        "funded_tasks": 1,
    }
    assert client.post(f"/api/v1/projects/{pid}/pay/close", headers=req).json() == closed
    r = client.post(f"/api/v1/projects/{pid}/next", headers=api.user())
    assert r.status_code == 409 and r.json()["error"] == {
        "code": "project_closed",
        "message": "this project is closed: it hands out no new tasks",
        "details": None,
    }
    r = client.post(f"/api/v1/projects/{pid}/pay/launch", headers=req)
    assert r.status_code == 409 and r.json()["error"]["code"] == "project_closed"

    r = client.post(f"/api/v1/projects/{pid}/pay/refund", headers=req)
    assert r.status_code == 200 and r.json()["amount"] == _usd(145)
    cost = client.get(f"/api/v1/projects/{pid}/pay/statement", headers=req).json()
    assert (cost["state"], cost["deposited"], cost["refunded"], cost["escrow"]) == (
        "closed",
        _usd(500),
        _usd(471),
        _usd(29),
    )
    assert _scalar(client, select(func.sum(PostingLine.amount))) == 0


def test_refusals_move_nothing(client, api):
    req, pid = _funded(client, api, amount="1.74")  # exactly what the work needs
    other = api.user("requester")
    member = api.user()
    unpaid = api.project(req)
    before = _counts(client)
    r = client.post(f"/api/v1/projects/{pid}/pay/refund", headers=req)
    assert r.status_code == 409
    assert r.json()["error"] == {
        "code": "nothing_to_refund",
        "message": "nothing to refund: the escrow holds 1.74 USD and the work still owed "
        "needs 1.74 USD",
        "details": {"escrow": 174, "required": 174, "currency": "USD"},
    }
    for path in ("refund", "close"):
        for who in (other, member):
            r = client.post(f"/api/v1/projects/{pid}/pay/{path}", headers=who)
            assert r.status_code == 403, (path, r.text)
        r = client.post(f"/api/v1/projects/{pid}/pay/{path}")
        assert r.status_code == 401, path
        r = client.post(f"/api/v1/projects/not-a-number/pay/{path}", headers=req)
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"
        r = client.post(f"/api/v1/projects/9999/pay/{path}", headers=req)
        assert r.status_code == 404
    for path in ("refund", "close"):
        r = client.post(f"/api/v1/projects/{unpaid['id']}/pay/{path}", headers=req)
        assert r.status_code == 409 and r.json()["error"]["code"] == "pay_not_enabled"
    assert _counts(client) == before
    status = client.get(f"/api/v1/projects/{pid}/pay", headers=req).json()
    assert status["state"] == "launched"
