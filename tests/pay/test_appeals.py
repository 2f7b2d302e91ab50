"""Rejections, appeals and auto-approval, on both backends: who may do what, bad input is
refused with nothing stored, honest work stays paid, and only steward-confirmed fraud (after
the appeal window) withholds pay. Ends with a property test over random sequences."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from people import register as _user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datacoop.clock import FixedClock
from datacoop.errors import Conflict
from datacoop.log.models import LogEntry
from datacoop.members.models import Member, Role
from datacoop.pay import appeals, postings, rules, settlement, statements
from datacoop.pay import services as pay
from datacoop.pay.models import (
    AccountKind,
    Approval,
    PiecePayment,
    Posting,
    Rejection,
    RejectionState,
)
from datacoop.pay.money import Money
from datacoop.projects import services as projects
from datacoop.work import services as work
from datacoop.work.models import Submission

DAY = 86_400
SPEC = {"pay_per_item": 10, "estimated_seconds": 60, "overlap": 2, "lease_seconds": 600}


def _count(client, model) -> int:
    with client.app.state.ctx.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _paid_project(client, api):
    req = api.user("requester")
    project = api.project(req, **SPEC)
    pid = project["id"]
    api.items(req, pid, "id,text\n" + "".join(f"i{i},thing {i}\n" for i in range(3)))
    assert client.post(f"/api/v1/projects/{pid}/pay/fund", headers=req, json={"amount": "5.00"})
    assert client.post(f"/api/v1/projects/{pid}/pay/launch", headers=req).status_code == 200
    return req, pid


def _submit(client, clock, headers, pid, seconds=60) -> int:
    aid = client.post(f"/api/v1/projects/{pid}/next", headers=headers).json()["assignment_id"]
    for _ in range(seconds // 10):
        clock.advance(10)
        client.post(f"/api/v1/assignments/{aid}/heartbeat", headers=headers)
    r = client.post(
        "/api/v1/submissions", headers=headers, json={"assignment_id": aid, "answer": "red"}
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _earned(client, headers, pid) -> int:
    r = client.get(f"/api/v1/projects/{pid}/pay/statement/me", headers=headers)
    return int(r.json()["total_paid"]["amount"])


def test_reject_appeal_overturn_keeps_pay_and_respects_roles(client, api, clock):
    req, pid = _paid_project(client, api)
    worker, other, steward = api.user(), api.user(), api.user("steward")
    sid = _submit(client, clock, worker, pid)
    assert client.post(f"/api/v1/projects/{pid}/pay/settle", headers=req).status_code == 200
    earned = _earned(client, worker, pid)
    assert earned == 25  # one minute at the 15.00 floor

    body = {"reason": "wrong_answer", "evidence": "the item shows blue"}
    url = f"/api/v1/submissions/{sid}/rejection"
    # A member cannot reject; unknown reasons and empty evidence are refused; nothing stored.
    r = client.post(url, headers=worker, json=body)
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    r = client.post(url, headers=req, json={**body, "reason": "lazy"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "reason"
    r = client.post(url, headers=req, json={**body, "evidence": "  "})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "evidence"
    assert _count(client, Rejection) == 0

    r = client.post(url, headers=req, json=body)
    assert r.status_code == 201, r.text
    rejection = r.json()
    rid = rejection["id"]
    assert rejection == {
        "id": rid,
        "submission_id": sid,
        "project_id": pid,
        "contributor_id": rejection["contributor_id"],
        "reason": "wrong_answer",
        "evidence": "the item shows blue",
        "state": "open",
        "created_at": rejection["created_at"],
        "appeal_deadline": rejection["appeal_deadline"],
        "appeal": None,
        "appealed_at": None,
        "decided_at": None,
        "decision_note": None,
        "withheld": {"amount": 0, "currency": "USD", "display": "0.00 USD"},
        "clawed_back": {"amount": 0, "currency": "USD", "display": "0.00 USD"},
    }
    assert client.post(url, headers=req, json=body).status_code == 409  # already rejected
    assert [x["id"] for x in client.get("/api/v1/rejections/mine", headers=worker).json()] == [rid]
    assert client.get("/api/v1/rejections/mine", headers=other).json() == []
    listed = client.get(f"/api/v1/projects/{pid}/rejections", headers=req).json()
    assert listed == [rejection]
    assert client.get(f"/api/v1/projects/{pid}/rejections", headers=worker).status_code == 403
    assert _earned(client, worker, pid) == earned  # a rejection alone un-pays nothing

    appeal_url = f"/api/v1/rejections/{rid}/appeal"
    assert client.post(appeal_url, headers=other, json={"statement": "x"}).status_code == 403
    r = client.post(appeal_url, headers=worker, json={"statement": "it is red, look again"})
    assert r.status_code == 200 and r.json()["state"] == "appealed"
    assert client.post(appeal_url, headers=worker, json={"statement": "again"}).status_code == 409

    decision = {"outcome": "overturned", "note": "the answer is right"}
    decide_url = f"/api/v1/rejections/{rid}/decision"
    assert client.post(decide_url, headers=req, json=decision).status_code == 403
    assert client.get("/api/v1/appeals", headers=req).status_code == 403
    queue = client.get("/api/v1/appeals", headers=steward).json()
    assert [x["id"] for x in queue] == [rid]
    r = client.post(decide_url, headers=steward, json={**decision, "outcome": "maybe"})
    assert r.status_code == 422
    logged = _count(client, LogEntry)
    r = client.post(decide_url, headers=steward, json=decision)
    assert r.status_code == 200 and r.json()["state"] == "overturned"
    assert _count(client, LogEntry) == logged + 1
    assert client.get("/api/v1/appeals", headers=steward).json() == []
    assert _earned(client, worker, pid) == earned
    again = client.post(f"/api/v1/projects/{pid}/pay/settle", headers=req).json()
    assert again["postings"] == []


def test_appeal_after_the_window_and_rejecting_after_auto_approval_are_refused(client, api, clock):
    req, pid = _paid_project(client, api)
    worker = api.user()
    first = _submit(client, clock, worker, pid)
    second = _submit(client, clock, worker, pid)
    body = {"reason": "gibberish", "evidence": "random letters"}
    rid = client.post(f"/api/v1/submissions/{first}/rejection", headers=req, json=body).json()["id"]
    clock.advance(15 * DAY)  # the default window is 14 days
    r = client.post(f"/api/v1/rejections/{rid}/appeal", headers=worker, json={"statement": "late"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "appeal_window_closed"
    mine = client.get("/api/v1/rejections/mine", headers=worker).json()
    assert mine[0]["state"] == "open" and mine[0]["appeal"] is None
    # Past auto_approve_days (7) the second submission is approved: no longer rejectable.
    r = client.post(f"/api/v1/submissions/{second}/rejection", headers=req, json=body)
    assert r.status_code == 409 and r.json()["error"]["code"] == "auto_approved"
    assert _count(client, Rejection) == 1
    assert client.post(f"/api/v1/projects/{pid}/pay/settle", headers=req).status_code == 200
    assert _count(client, Approval) == 1  # settlement approved the unreviewed one


def test_only_confirmed_fraud_after_the_window_withholds_pay(client, api, clock):
    req, pid = _paid_project(client, api)
    worker, steward = api.user(), api.user("steward")
    fraud = _submit(client, clock, worker, pid, seconds=0)
    honest = _submit(client, clock, api.user(), pid, seconds=0)
    client.post(f"/api/v1/projects/{pid}/pay/settle", headers=req)
    assert _earned(client, worker, pid) == 10  # the piece; no measured time
    body = {"reason": "suspected_fraud", "evidence": "same answer pasted in 0 s"}
    rid = client.post(f"/api/v1/submissions/{fraud}/rejection", headers=req, json=body).json()["id"]
    other = client.post(
        f"/api/v1/submissions/{honest}/rejection",
        headers=req,
        json={"reason": "wrong_answer", "evidence": "blue"},
    ).json()["id"]
    confirm = {"outcome": "fraud_confirmed", "note": "checked the logs"}
    r = client.post(f"/api/v1/rejections/{rid}/decision", headers=steward, json=confirm)
    assert r.status_code == 409 and r.json()["error"]["code"] == "appeal_window_open"
    clock.advance(15 * DAY)
    r = client.post(f"/api/v1/rejections/{other}/decision", headers=steward, json=confirm)
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_suspected_fraud"
    posts = _count(client, Posting)
    r = client.post(f"/api/v1/rejections/{rid}/decision", headers=steward, json=confirm)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "fraud_confirmed" and r.json()["withheld"]["amount"] == 10
    assert _count(client, Posting) == posts + 1  # one withhold posting, payable -> escrow
    assert _earned(client, worker, pid) == 0
    me = client.get(f"/api/v1/projects/{pid}/pay/statement/me", headers=worker).json()
    assert me["withheld"]["amount"] == 10 and me["piece_pay"]["amount"] == 0
    assert me["payable_balance"]["amount"] == 0  # not paid out yet: nothing below zero
    cost = client.get(f"/api/v1/projects/{pid}/pay/statement", headers=req).json()
    assert cost["withheld"]["amount"] == 10 and cost["piece_pay"]["amount"] == 10  # the honest one
    with client.app.state.ctx.sessions() as s:
        assert all(v == 0 for v in postings.totals(s).values())
        entry = s.scalars(select(LogEntry).order_by(LogEntry.index.desc()).limit(1)).one()
        assert '"outcome":"fraud_confirmed"' in entry.payload and '"withheld":10' in entry.payload
    r = client.post(f"/api/v1/rejections/{rid}/decision", headers=steward, json=confirm)
    assert r.status_code == 409  # decided once
    assert client.post(f"/api/v1/projects/{pid}/pay/settle", headers=req).json()["postings"] == []


def test_the_appeal_window_is_policy(client, api):
    steward = api.user("steward")
    r = client.put("/api/v1/pay/policy", headers=steward, json={"appeal_days": 0})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "appeal_days"
    r = client.put("/api/v1/pay/policy", headers=steward, json={"appeal_days": 30})
    assert r.status_code == 200 and r.json()["appeal_days"] == 30
    assert client.get("/api/v1/pay/policy", headers=api.user()).json()["appeal_days"] == 30


# -- property: rejection never un-pays honest work ------------------------------------------

N = 3
step = st.one_of(
    st.tuples(st.just("task"), st.integers(0, N - 1), st.integers(0, 120)),
    st.tuples(st.just("settle")),
    st.tuples(
        st.just("reject"),
        st.integers(0, 20),
        st.sampled_from(["wrong_answer", "suspected_fraud", "suspected_fraud"]),
    ),
    st.tuples(st.just("appeal"), st.integers(0, 20)),
    st.tuples(
        st.just("decide"),
        st.integers(0, 20),
        st.sampled_from(["upheld", "overturned", "fraud_confirmed", "fraud_confirmed"]),
    ),
    st.tuples(st.just("wait_days"), st.sampled_from([1, 3, 15])),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pay_per_item=st.integers(0, 40), steps=st.lists(step, max_size=30))
# Paid, then rejected as fraud, confirmed after the window; the honest co-worker keeps pay.
@example(
    pay_per_item=10,
    steps=[
        ("task", 0, 60),
        ("task", 1, 60),
        ("settle",),
        ("reject", 0, "suspected_fraud"),
        ("reject", 1, "suspected_fraud"),
        ("appeal", 1),
        ("wait_days", 15),
        ("decide", 0, "fraud_confirmed"),
        ("decide", 1, "overturned"),
    ],
)
def test_rejection_never_unpays_honest_work(engine, pay_per_item, steps):
    clock = FixedClock()
    with Session(engine) as session:
        requester = _user(session, clock, Role.requester)
        steward = _user(session, clock, Role.steward)
        workers = [_user(session, clock) for _ in range(N)]
        project = projects.create_project(
            session,
            clock,
            requester,
            {
                "title": "t",
                "task_type": "single_choice",
                "labels": ["a", "b"],
                "overlap": N,
                "pay_per_item": pay_per_item,
                "estimated_seconds": 30,
                "lease_seconds": 300,
            },
        )
        rows = "".join(f"i{i},x\n" for i in range(4))
        projects.import_items(
            session, clock, requester, project, io.BytesIO(f"id,text\n{rows}".encode()), fmt="csv"
        )
        pay.fund(session, clock, requester, project, Money(100_000, "USD"))
        pay.launch(session, clock, requester, project)
        for op, *args in steps:
            if op == "wait_days":
                clock.advance(args[0] * DAY)
                continue
            try:
                with session.begin_nested():
                    _apply(session, clock, op, args, project, requester, steward, workers)
            except Conflict as exc:
                event(f"refused: {exc.code}")
        clock.advance(400)
        settlement.settle(session, clock, requester, project)
        assert all(total == 0 for total in postings.totals(session).values())
        fraud = set(
            session.scalars(
                select(Rejection.submission_id).where(
                    Rejection.state == RejectionState.fraud_confirmed
                )
            )
        )
        event(f"fraud confirmed: {bool(fraud)}")
        floor = pay.current_policy(session).floor_hourly
        withheld_from = set(
            session.scalars(
                select(Rejection.member_id).where(Rejection.state == RejectionState.fraud_confirmed)
            )
        )
        for w in workers:
            e = statements.earnings(session, clock, w, project)
            honest = session.scalar(
                select(func.count()).where(
                    Submission.project_id == project.id,
                    Submission.member_id == w.id,
                    Submission.id.not_in(fraud or {0}),
                )
            )
            # Every honest submission keeps its piece; all honest time is paid at the floor.
            assert e.piece_pay == honest * pay_per_item
            assert e.total_paid >= rules.floor_pay(floor, e.active_ms)
            payable = postings.balance_of(session, AccountKind.payable, "USD", member_id=w.id)
            assert payable.amount == e.total_paid
            if w.id not in withheld_from:
                assert e.items_paid == e.items_submitted
        for sub_id in fraud:
            piece = session.get(PiecePayment, sub_id)
            assert piece is not None  # settled: never paid again
        again = settlement.settle(session, clock, requester, project)
        assert again.postings == []
        session.rollback()


def _apply(session, clock, op, args, project, requester, steward, workers):
    subs = list(
        session.scalars(
            select(Submission).where(Submission.project_id == project.id).order_by(Submission.id)
        )
    )
    if op == "settle":
        settlement.settle(session, clock, requester, project)
    elif op == "task":
        who = workers[args[0]]
        a = work.next_task(session, clock, who, project)
        if a is None:
            return
        for _ in range(args[1] // 10):
            clock.advance(10)
            work.heartbeat(session, clock, who, a.id)
        work.submit(session, clock, who, answer="a", assignment_id=a.id)
    elif op == "reject" and subs:
        sub = subs[args[0] % len(subs)]
        appeals.reject(session, clock, requester, sub.id, reason=args[1], evidence="because")
    elif op in ("appeal", "decide"):
        found = list(session.scalars(select(Rejection).order_by(Rejection.id)))
        if not found:
            return
        r = found[args[0] % len(found)]
        if op == "appeal":
            member = next(w for w in workers if w.id == r.member_id)
            appeals.appeal(session, clock, member, r.id, statement="I did it right")
        else:
            appeals.decide(session, clock, steward, r.id, outcome=args[1], note="looked at it")


# -- the CLI ---------------------------------------------------------------------------------


def test_cli_auto_approve_and_appeal_days(tmp_path, database_url, monkeypatch):
    from typer.testing import CliRunner

    from datacoop.cli import app
    from datacoop.db.engine import create_db_engine
    from datacoop.pay.models import PayPolicy

    monkeypatch.setenv("DATACOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATACOOP_DATABASE_URL", database_url)
    monkeypatch.setenv("DATACOOP_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("DATACOOP_ARGON2_MEMORY_KIB", "8")
    runner = CliRunner()

    def cli(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    def policies() -> int:
        engine = create_db_engine(database_url)
        with engine.connect() as conn:
            n = conn.execute(select(func.count()).select_from(PayPolicy)).scalar_one()
        engine.dispose()
        return int(n)

    assert cli("init").exit_code == 0
    r = cli("pay", "auto-approve")
    assert r.exit_code == 0 and r.output.strip() == "approved 0 submissions"
    r = cli("pay", "policy")
    assert "appeals:        within 14 days of a rejection" in r.output
    before = policies()
    r = cli("pay", "policy", "--appeal-days", "0")
    assert r.exit_code != 0 and "appeal_days: must be from 1 to 365" in r.output
    assert policies() == before
    r = cli("pay", "policy", "--appeal-days", "21")
    assert r.exit_code == 0, r.output
    assert "appeals:        within 21 days of a rejection" in r.output
    assert policies() == before + 1


def test_the_requester_may_approve_before_auto_approval(client, api, clock):
    req, pid = _paid_project(client, api)
    worker = api.user()
    first = _submit(client, clock, worker, pid)
    second = _submit(client, clock, worker, pid)
    url = f"/api/v1/submissions/{first}/approval"
    assert client.post(url, headers=worker).status_code == 403
    assert client.post("/api/v1/submissions/9999/approval", headers=req).status_code == 404
    r = client.post(url, headers=req)
    assert r.status_code == 200, r.text
    body = r.json()
    with client.app.state.ctx.sessions() as s:
        approval = s.get(Approval, first)
        approver = s.get(Member, approval.approved_by)
        pseudonym = approver.pseudonym
        assert approver.role is Role.requester
    assert body == {
        "submission_id": first,
        "project_id": pid,
        "approved_at": body["approved_at"],
        "automatic": False,
        "approved_by": pseudonym,
    }
    assert client.post(url, headers=req).json() == body  # approving again: the same approval
    assert _count(client, Approval) == 1
    # Approved work can no longer be rejected; rejected work cannot be approved.
    reject = {"reason": "wrong_answer", "evidence": "blue"}
    r = client.post(f"/api/v1/submissions/{first}/rejection", headers=req, json=reject)
    assert r.status_code == 409 and r.json()["error"]["code"] == "auto_approved"
    assert client.post(f"/api/v1/submissions/{second}/rejection", headers=req, json=reject)
    r = client.post(f"/api/v1/submissions/{second}/approval", headers=req)
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_rejected"
    assert _count(client, Approval) == 1 and _count(client, Rejection) == 1
    # Settlement's auto-approval later skips it (approved once) and pays both as usual.
    clock.advance(8 * DAY)
    assert client.post(f"/api/v1/projects/{pid}/pay/settle", headers=req).status_code == 200
    assert _count(client, Approval) == 1
    assert _earned(client, worker, pid) == 50
    third = _submit(client, clock, worker, pid)
    clock.advance(8 * DAY)
    assert client.post(f"/api/v1/projects/{pid}/pay/settle", headers=req).status_code == 200
    with client.app.state.ctx.sessions() as s:  # auto-approved: by nobody
        assert s.get(Approval, third).approved_by is None


def test_pages_show_what_confirmed_fraud_took_back(client, api, clock):
    """The member's earnings page and the requester's cost page say what was taken back and
    why; before any fraud decision neither shows the column or row."""
    import re

    req, pid = _paid_project(client, api)
    worker, steward = api.user(email="w@example.org"), api.user("steward")
    _submit(client, clock, worker, pid, seconds=60)
    fraud = _submit(client, clock, worker, pid, seconds=300)
    client.post(f"/api/v1/projects/{pid}/pay/settle", headers=req)

    def page(email: str, path: str) -> str:
        client.cookies.clear()
        login = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        r = client.post(
            "/login",
            data={"email": email, "password": "correct horse battery", "csrf_token": token},
            follow_redirects=False,
        )
        assert r.status_code == 303
        got = client.get(path)
        assert got.status_code == 200
        return got.text

    assert "Taken back after confirmed fraud" not in page("w@example.org", "/earnings")
    body = {"reason": "suspected_fraud", "evidence": "five idle minutes"}
    rid = client.post(f"/api/v1/submissions/{fraud}/rejection", headers=req, json=body).json()["id"]
    clock.advance(15 * DAY)
    confirm = {"outcome": "fraud_confirmed", "note": "checked the heartbeats"}
    decided = client.post(f"/api/v1/rejections/{rid}/decision", headers=steward, json=confirm)
    taken = decided.json()["withheld"]["amount"] + decided.json()["clawed_back"]["amount"]
    # The piece (0.10), and of the 1.30 top-up all but what the honest minute asks
    # (0.25 at the 15.00 floor, of which its piece paid 0.10): 1.15.
    assert (decided.json()["withheld"]["amount"], taken) == (10, 125)

    earnings = page("w@example.org", "/earnings")
    assert "Taken back after confirmed fraud" in earnings
    assert '<td class="taken-back">1.25 USD</td>' in earnings
    assert 'id="taken-back-note"' in earnings
    with client.app.state.ctx.sessions() as s:
        owner = s.get(Member, s.get(projects.Project, pid).owner_id).email
    cost = page(owner, f"/projects/{pid}/cost")
    assert '<td id="taken-back">1.25 USD</td>' in cost
