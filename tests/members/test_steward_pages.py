"""The stewards' pages over HTTP: members and roles (CSRF-protected), the appeals queue."""

from __future__ import annotations

import re

from page_helpers import log_in as _login

from datacoop.members.models import Member, Role

PASSWORD = "correct horse battery"


def _role(client, email: str) -> Role:
    with client.app.state.ctx.sessions() as s:
        return s.query(Member).filter_by(email=email).one().role


def _id(client, email: str) -> int:
    with client.app.state.ctx.sessions() as s:
        return s.query(Member).filter_by(email=email).one().id


def test_steward_pages_are_for_stewards_only(client, api):
    api.user("requester", email="r@example.org")
    for path in ("/steward/members", "/steward/appeals"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}"
    csrf = _login(client, "r@example.org")
    assert client.get("/steward/members").status_code == 403
    assert client.get("/steward/appeals").status_code == 403
    r = client.post(
        f"/steward/members/{_id(client, 'r@example.org')}/role",
        data={"role": "steward", "csrf_token": csrf},
    )
    assert r.status_code == 403 and _role(client, "r@example.org") is Role.requester


def test_a_steward_lists_members_and_changes_a_role(client, api):
    api.user("steward", email="s@example.org")
    api.user("member", email="m@example.org")
    csrf = _login(client, "s@example.org")
    page = client.get("/steward/members")
    assert page.status_code == 200
    mid = _id(client, "m@example.org")
    assert f'id="member-{mid}"' in page.text and "m@example.org" in page.text
    assert f'<label class="visually-hidden" for="role-{mid}">' in page.text
    r = client.post(
        f"/steward/members/{mid}/role",
        data={"role": "requester", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/steward/members?changed={mid}"
    assert _role(client, "m@example.org") is Role.requester
    assert f"Role of member {mid} changed." in client.get(r.headers["location"]).text


def test_role_changes_refuse_bad_forms(client, api):
    api.user("steward", email="s@example.org")
    api.user("member", email="m@example.org")
    csrf = _login(client, "s@example.org")
    mid, sid = _id(client, "m@example.org"), _id(client, "s@example.org")
    forged = client.post(
        f"/steward/members/{mid}/role", data={"role": "steward", "csrf_token": "x"}
    )
    assert forged.status_code == 403 and "Your form expired" in forged.text
    bad = client.post(f"/steward/members/{mid}/role", data={"role": "king", "csrf_token": csrf})
    assert bad.status_code == 422 and "is not a role" in bad.text
    own = client.post(f"/steward/members/{sid}/role", data={"role": "member", "csrf_token": csrf})
    assert own.status_code == 403 and "cannot change your own role" in own.text
    missing = client.post("/steward/members/999/role", data={"role": "member", "csrf_token": csrf})
    assert missing.status_code == 404
    assert _role(client, "m@example.org") is Role.member
    assert _role(client, "s@example.org") is Role.steward


def test_an_empty_appeals_queue(client, api):
    api.user("steward", email="s@example.org")
    _login(client, "s@example.org")
    page = client.get("/steward/appeals")
    assert page.status_code == 200 and 'id="no-appeals"' in page.text
    assert "once issue 7 lands" not in page.text
    assert 'href="/steward/members"' in page.text  # the steward's nav links


def _appealed(client, api, clock, reason="wrong_answer") -> int:
    req = api.user("requester")
    project = api.project(req, title="Skies", overlap=1)
    api.items(req, project["id"], "text\nsky\n")
    worker = api.user("member")
    task = client.post(f"/api/v1/projects/{project['id']}/next", headers=worker).json()
    sub = client.post(
        "/api/v1/submissions",
        json={"assignment_id": task["assignment_id"], "answer": "red"},
        headers=worker,
    ).json()
    rej = client.post(
        f"/api/v1/submissions/{sub['id']}/rejection",
        headers=req,
        json={"reason": reason, "evidence": "the sky is <b>blue</b>"},
    ).json()
    r = client.post(
        f"/api/v1/rejections/{rej['id']}/appeal", headers=worker, json={"statement": "red sky"}
    )
    assert r.status_code == 200, r.text
    return int(rej["id"])


def test_a_steward_decides_an_appeal_with_a_csrf_form(client, api, clock):
    from datacoop.log.models import LogEntry
    from datacoop.pay.models import Rejection, RejectionState

    rid = _appealed(client, api, clock)
    api.user("steward", email="s@example.org")
    api.user("member", email="m@example.org")
    _login(client, "m@example.org")
    assert client.get("/steward/appeals").status_code == 403
    client.cookies.clear()
    _login(client, "s@example.org")
    page = client.get("/steward/appeals").text
    card = page[
        page.index(f'id="appeal-{rid}"') : page.index("</li>", page.index(f'id="appeal-{rid}"'))
    ]
    assert "<h2>Appeal" in card and "Skies" in card
    assert '<dd class="reason"><code>wrong_answer</code></dd>' in card
    assert '<dd class="evidence">the sky is &lt;b&gt;blue&lt;/b&gt;</dd>' in card
    assert '<dd class="appeal-text">red sky</dd>' in card
    assert 'value="fraud_confirmed"' not in card  # not a suspected_fraud rejection
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    url = f"/steward/appeals/{rid}/decision"
    r = client.post(url, data={"outcome": "overturned", "note": "ok", "csrf_token": "bad"})
    assert r.status_code == 403 and "Your form expired" in r.text
    r = client.post(url, data={"outcome": "overturned", "note": " ", "csrf_token": csrf})
    assert r.status_code == 422 and f'id="decide-{rid}-note-error">Note must not be empty' in r.text
    r = client.post(url, data={"outcome": "fraud_confirmed", "note": "x", "csrf_token": csrf})
    assert r.status_code == 409 and "only a suspected_fraud rejection" in r.text
    with client.app.state.ctx.sessions() as s:
        assert s.get(Rejection, rid).state is RejectionState.appealed
        logged = s.query(LogEntry).count()
    r = client.post(
        url,
        data={"outcome": "overturned", "note": "a red sky at dusk", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/steward/appeals?decided={rid}"
    after = client.get(r.headers["location"]).text
    assert f"Appeal {rid} decided and logged." in after and 'id="no-appeals"' in after
    with client.app.state.ctx.sessions() as s:
        decided = s.get(Rejection, rid)
        assert decided.state is RejectionState.overturned
        assert decided.decision_note == "a red sky at dusk"
        assert s.query(LogEntry).count() == logged + 1


def test_fraud_can_be_confirmed_only_after_the_window(client, api, clock):
    rid = _appealed(client, api, clock, reason="suspected_fraud")
    api.user("steward", email="s@example.org")
    _login(client, "s@example.org")
    assert 'value="fraud_confirmed"' not in client.get("/steward/appeals").text
    clock.advance(15 * 86_400)
    client.cookies.clear()
    _login(client, "s@example.org")
    page = client.get("/steward/appeals").text
    assert f'id="appeal-{rid}"' in page and 'value="fraud_confirmed"' in page
