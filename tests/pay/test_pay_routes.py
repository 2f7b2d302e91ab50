"""Pay through the HTTP API, on both backends: fund before work, launch, reserve, settle with
the floor, statements; bad input is refused with a clear 4xx and posts nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from datacoop.log.models import LogEntry
from datacoop.pay.models import PayPolicy, PiecePayment, Posting, PostingLine

# 10 cents a piece, estimated at 60 s: at the 15.00/h floor a task is worth 25 cents, plus the
# 15% fee rounded up = 29 cents reserved per task; 3 items × overlap 2 = 6 tasks = 1.74 USD.
SPEC = {"pay_per_item": 10, "estimated_seconds": 60, "overlap": 2, "lease_seconds": 600}


def _usd(amount: int) -> dict:
    whole, cents = divmod(abs(amount), 100)
    sign = "-" if amount < 0 else ""
    return {"amount": amount, "currency": "USD", "display": f"{sign}{whole}.{cents:02d} USD"}


def _setup(api, n_items=3, **spec):
    req = api.user("requester")
    project = api.project(req, **{**SPEC, **spec})
    rows = "".join(f"i{i},thing {i}\n" for i in range(n_items))
    api.items(req, project["id"], "id,text\n" + rows)
    return req, project


def _scalar(client, query):
    with client.app.state.ctx.sessions() as s:
        return s.scalar(query)


def _counts(client) -> tuple[int, int, int]:
    return (
        _scalar(client, select(func.count()).select_from(Posting)),
        _scalar(client, select(func.count()).select_from(PiecePayment)),
        _scalar(client, select(func.count()).select_from(LogEntry)),
    )


def _work(client, clock, headers, project_id, seconds, answer="red"):
    """Lease a task, send a heartbeat every 10 s for ``seconds``, submit."""
    task = client.post(f"/api/v1/projects/{project_id}/next", headers=headers)
    assert task.status_code == 200, task.text
    aid = task.json()["assignment_id"]
    for _ in range(seconds // 10):
        clock.advance(10)
        assert client.post(f"/api/v1/assignments/{aid}/heartbeat", headers=headers).is_success
    r = client.post(
        "/api/v1/submissions", headers=headers, json={"assignment_id": aid, "answer": answer}
    )
    assert r.status_code == 201, r.text
    return aid


def test_fund_launch_work_settle_and_statements(client, api, clock):
    req, project = _setup(api)
    pid = project["id"]
    status = client.get(f"/api/v1/projects/{pid}/pay", headers=req).json()
    assert status == {
        "project_id": pid,
        "state": "off",
        "fee_bps": 1500,
        "escrow": _usd(0),
        "task_base": _usd(25),
        "task_cost": _usd(29),
        "tasks_needed": 6,
        "required": _usd(174),
        "shortfall": _usd(174),
        "reserved_tasks": 0,
        "funded_tasks": 0,
    }
    r = client.post(f"/api/v1/projects/{pid}/pay/fund", headers=req, json={"amount": "1.00"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "draft" and r.json()["shortfall"] == _usd(74)

    member = api.user()
    r = client.post(f"/api/v1/projects/{pid}/next", headers=member)
    assert r.status_code == 409 and r.json()["error"]["code"] == "project_not_launched"

    r = client.post(f"/api/v1/projects/{pid}/pay/launch", headers=req)
    assert r.status_code == 409
    assert r.json()["error"] == {
        "code": "underfunded",
        "message": "the escrow must hold 1.74 USD to launch; add 0.74 USD",
        "details": {"required": 174, "escrow": 100, "shortfall": 74, "currency": "USD"},
    }
    client.post(f"/api/v1/projects/{pid}/pay/fund", headers=req, json={"amount": "0.74"})
    r = client.post(f"/api/v1/projects/{pid}/pay/launch", headers=req)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "launched"
    assert (r.json()["reserved_tasks"], r.json()["funded_tasks"]) == (0, 6)

    # Two minutes of measured work on a one-minute task: the piece (0.10) is topped up to
    # the floor on 120 s (0.50); the fee is 15% of each, rounded down (0.01 + 0.06).
    _work(client, clock, member, pid, 120)
    r = client.get(f"/api/v1/projects/{pid}/pay", headers=req).json()
    assert (r["reserved_tasks"], r["funded_tasks"]) == (1, 6)

    r = client.post(f"/api/v1/projects/{pid}/pay/settle", headers=req)
    assert r.status_code == 200, r.text
    body = r.json()
    contributor = body["members"][0]["contributor_id"]
    assert body == {
        "project_id": pid,
        "floor_hourly": _usd(1500),
        "postings": body["postings"],
        "members": [
            {
                "contributor_id": contributor,
                "items": 1,
                "piece": _usd(10),
                "top_up": _usd(40),
                "fee": _usd(7),
            }
        ],
        "piece_total": _usd(10),
        "top_up_total": _usd(40),
        "fee_total": _usd(7),
        "escrow_after": _usd(174 - 57),
        "owed_by_requester": _usd(0),
        "state": "launched",
    }
    assert len(body["postings"]) == 2
    before = _counts(client)
    again = client.post(f"/api/v1/projects/{pid}/pay/settle", headers=req).json()
    assert again["postings"] == [] and again["members"] == []
    assert _counts(client) == before  # nothing paid twice, nothing logged

    me = client.get(f"/api/v1/projects/{pid}/pay/statement/me", headers=member).json()
    assert me == {
        "project_id": pid,
        "items_submitted": 1,
        "items_paid": 1,
        "active_seconds": 120,
        "piece_pay": _usd(10),
        "top_ups": _usd(40),
        "total_paid": _usd(50),
        "effective_hourly": _usd(1500),
        "floor_hourly": _usd(1500),
        "withheld": _usd(0),
        "clawed_back": _usd(0),
        "payable_balance": _usd(50),
        "paid_out": _usd(0),
        "payout_open": _usd(0),
        "payouts": [],
    }
    cost = client.get(f"/api/v1/projects/{pid}/pay/statement", headers=req).json()
    assert cost == {
        "project_id": pid,
        "state": "launched",
        "fee_bps": 1500,
        "deposited": _usd(174),
        "piece_pay": _usd(10),
        "top_ups": _usd(40),
        "fees": _usd(7),
        "escrow": _usd(117),
        "members_paid": 1,
        "items_paid": 1,
        "active_seconds": 120,
        "effective_hourly": _usd(1500),
        "withheld": _usd(0),
        "clawed_back": _usd(0),
        # 120 s on a 60 s estimate doubles the rate: 0.10 of the top-up is the rise, the
        # floor (0.50 for two minutes) asks for the rest.
        "rate_rises": _usd(10),
        "floor_top_ups": _usd(30),
        "pay_per_item": _usd(10),
        "piece_rate": _usd(20),
        "owed_by_requester": _usd(0),
        "refunded": _usd(0),
    }
    # Double entry: every account together sums to zero.
    assert _scalar(client, select(func.sum(PostingLine.amount))) == 0
    # The members' view is theirs only; the cost statement is the requester's.
    assert client.get(f"/api/v1/projects/{pid}/pay/statement", headers=member).status_code == 403


def test_the_log_records_postings_with_pseudonymous_labels_only(client, api, clock):
    req, project = _setup(api)
    pid = project["id"]
    client.post(f"/api/v1/projects/{pid}/pay/fund", headers=req, json={"amount": "2.00"})
    with client.app.state.ctx.sessions() as s:
        entry = s.scalars(select(LogEntry).order_by(LogEntry.index.desc()).limit(1)).one()
        posting = s.scalars(select(Posting)).one()
    assert entry.kind == "pay:posted" and posting.log_index == entry.index
    payload = entry.payload
    assert '"posting_kind":"deposit"' in payload and '"currency":"USD"' in payload
    assert f'["escrow:project:{pid}",200]' in payload
    assert '"funding:' in payload and "@" not in payload


def test_a_short_escrow_pauses_the_project_and_still_pays_members_in_full(client, api, clock):
    req, project = _setup(api, n_items=1, overlap=1)
    pid = project["id"]
    client.post(f"/api/v1/projects/{pid}/pay/fund", headers=req, json={"amount": "0.29"})
    assert client.post(f"/api/v1/projects/{pid}/pay/launch", headers=req).status_code == 200
    member = api.user()
    _work(client, clock, member, pid, 600)  # ten minutes on a one-minute task: 2.50 at the floor
    body = client.post(f"/api/v1/projects/{pid}/pay/settle", headers=req).json()
    assert body["piece_total"] == _usd(10) and body["top_up_total"] == _usd(240)
    assert body["fee_total"] == _usd(0)  # the fee is waived before a member goes short
    assert body["escrow_after"] == _usd(29 - 250)
    assert body["owed_by_requester"] == _usd(221)
    assert body["state"] == "paused"
    me = client.get(f"/api/v1/projects/{pid}/pay/statement/me", headers=member).json()
    assert me["total_paid"] == _usd(250) and me["effective_hourly"] == _usd(1500)
    api.items(req, pid, "id,text\nmore,thing\n")
    r = client.post(f"/api/v1/projects/{pid}/next", headers=api.user())
    assert r.status_code == 409 and r.json()["error"]["code"] == "project_paused"
    # Funding what is owed and the new task lets the project resume.
    client.post(f"/api/v1/projects/{pid}/pay/fund", headers=req, json={"amount": "2.50"})
    assert client.post(f"/api/v1/projects/{pid}/pay/launch", headers=req).json()["state"] == (
        "launched"
    )


def test_skipped_work_counts_toward_the_floor(client, api, clock):
    req, project = _setup(api)
    pid = project["id"]
    client.post(f"/api/v1/projects/{pid}/pay/fund", headers=req, json={"amount": "5.00"})
    client.post(f"/api/v1/projects/{pid}/pay/launch", headers=req)
    member = api.user()
    task = client.post(f"/api/v1/projects/{pid}/next", headers=member).json()
    for _ in range(6):
        clock.advance(10)
        client.post(f"/api/v1/assignments/{task['assignment_id']}/heartbeat", headers=member)
    assert client.post(
        f"/api/v1/assignments/{task['assignment_id']}/skip", headers=member
    ).is_success
    body = client.post(f"/api/v1/projects/{pid}/pay/settle", headers=req).json()
    assert body["piece_total"] == _usd(0) and body["top_up_total"] == _usd(25)  # 60 s at 15.00/h


def test_projects_without_pay_work_as_before(client, api, clock):
    req, project = _setup(api)
    member = api.user()
    _work(client, clock, member, project["id"], 20)
    r = client.post(f"/api/v1/projects/{project['id']}/pay/settle", headers=req)
    assert r.status_code == 409 and r.json()["error"]["code"] == "pay_not_enabled"


def test_bad_input_is_refused_and_posts_nothing(client, api):
    req, project = _setup(api)
    pid = project["id"]
    eur = api.project(req, currency="EUR")
    other = api.user("requester")
    before = _counts(client)
    cases = [
        ({"amount": "-5.00"}, 422, "validation_failed", "amount: must not be negative"),
        (
            {"amount": "1.005"},
            422,
            "validation_failed",
            "amount: 1.005 has more decimals than USD allows (2)",
        ),
        ({"amount": "0"}, 422, "validation_failed", "amount: must be more than zero"),
        ({"amount": 5.5}, 422, "validation_failed", None),
        (
            {"amount": "5.00", "currency": "EUR"},
            422,
            "currency_mismatch",
            "this project is paid in USD, not EUR",
        ),
        (
            {"amount": "5.00", "currency": "XYZ"},
            422,
            "validation_failed",
            "currency: XYZ is not an ISO 4217 currency",
        ),
    ]
    for body, status, code, message in cases:
        r = client.post(f"/api/v1/projects/{pid}/pay/fund", headers=req, json=body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["error"]["code"] == code, body
        if message:
            assert r.json()["error"]["message"] == message
    r = client.post("/api/v1/projects/9999/pay/settle", headers=req)
    assert r.status_code == 404 and r.json()["error"]["message"] == "no project with id 9999"
    r = client.post(f"/api/v1/projects/{eur['id']}/pay/fund", headers=req, json={"amount": "5.00"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "currency_mismatch"
    r = client.post(f"/api/v1/projects/{pid}/pay/fund", headers=other, json={"amount": "5.00"})
    assert r.status_code == 403
    assert _counts(client) == before


def test_the_policy_is_a_row_a_floor_below_the_minimum_is_refused(client, api):
    steward = api.user("steward")
    member = api.user()
    policy = client.get("/api/v1/pay/policy", headers=member).json()
    assert policy["floor_hourly"] == _usd(1500) and policy["hard_minimum_hourly"] == _usd(800)
    assert (policy["fee_bps"], policy["fee_cap_bps"], policy["auto_approve_days"]) == (
        1500,
        1500,
        7,
    )
    before = _counts(client)
    for body, message in [
        (
            {"floor_hourly": "7.99"},
            "floor_hourly: must be at least the hard minimum of 800 minor units per hour",
        ),
        ({"floor_hourly": "-15.00"}, "floor_hourly: must not be negative"),
        ({"floor_hourly": "15.001"}, "floor_hourly: 15.001 has more decimals than USD allows (2)"),
        ({"fee_bps": 1600}, "fee_bps: must be from 0 to the cap of 1500"),
    ]:
        r = client.put("/api/v1/pay/policy", headers=steward, json=body)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["message"] == message
    assert (
        client.put("/api/v1/pay/policy", headers=member, json={"floor_hourly": "20.00"}).status_code
        == 403
    )
    assert _counts(client) == before
    assert _scalar(client, select(func.count()).select_from(PayPolicy)) == 1
    r = client.put("/api/v1/pay/policy", headers=steward, json={"floor_hourly": "16.50"})
    assert r.status_code == 200, r.text
    assert r.json()["floor_hourly"] == _usd(1650) and r.json()["id"] == 2
    assert client.get("/api/v1/pay/policy", headers=member).json()["id"] == 2
