"""The stewards' pages over HTTP: members and roles (CSRF-protected), the appeals queue."""

from __future__ import annotations

import re

from datacoop.members.models import Member, Role

PASSWORD = "correct horse battery"


def _login(client, email: str) -> str:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    r = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get("/steward/appeals")
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    return found.group(1) if found else ""


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


def test_the_appeals_queue_is_a_placeholder_until_pay_lands(client, api):
    api.user("steward", email="s@example.org")
    _login(client, "s@example.org")
    page = client.get("/steward/appeals")
    assert page.status_code == 200 and "once issue 7 lands" in page.text
    assert 'href="/steward/members"' in page.text  # the steward's nav links
