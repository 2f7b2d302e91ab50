"""Accounts over HTTP: registration, login tokens, /me, token management, steward admin and the
identities (pseudonyms, per-project contributor ids) that keep members unlinkable."""

from __future__ import annotations

import csv
import hashlib
import io
import re

import pytest
from sqlalchemy import func, select

from datacoop.members.models import ApiToken, Contributor, Member

PASSWORD = "correct horse battery"
NOW = "2026-01-01T00:00:00Z"  # the FixedClock's start, as the API renders it
PSEUDONYM = re.compile(r"m-[0-9a-f]{12}")


def _count(client, model, *where) -> int:
    with client.app.state.ctx.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _register(client, **overrides):
    body = {"email": "ada@example.org", "password": PASSWORD, "display_name": "Ada"}
    body.update(overrides)
    return client.post("/api/v1/auth/register", json=body)


def _login(client, email="ada@example.org", password=PASSWORD, **extra):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password, **extra})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _error(response) -> dict:
    """The error object, after checking the envelope has exactly its three keys."""
    body = response.json()
    assert list(body) == ["error"]
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def _me(client, headers) -> dict:
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


# --- registration --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["member", "requester"])
def test_register_creates_an_account_with_normalised_email_and_name(client, role):
    r = _register(client, email="  Ada@Example.ORG ", display_name="  Ada L. ", role=role)
    assert r.status_code == 201, r.text
    body = r.json()
    assert PSEUDONYM.fullmatch(body["pseudonym"])
    assert body == {
        "id": body["id"],
        "email": "ada@example.org",
        "pseudonym": body["pseudonym"],
        "display_name": "Ada L.",
        "role": role,
        "created_at": NOW,
    }
    assert _count(client, Member) == 1


def test_register_without_a_role_makes_a_member(client):
    r = _register(client)
    assert r.status_code == 201
    assert r.json()["role"] == "member"


def test_register_refuses_the_steward_role(client):
    r = _register(client, role="steward")
    assert r.status_code == 422
    assert _error(r) == {
        "code": "validation_failed",
        "message": "role: Input should be 'member' or 'requester'",
        "details": [{"field": "role", "message": "Input should be 'member' or 'requester'"}],
    }
    assert _count(client, Member) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "is not a valid email address"),
        ("email", "two@@example.org", "is not a valid email address"),
        ("password", "123456789", "must be at least 10 characters"),
        ("display_name", "", "must be 1 to 200 characters"),
        ("display_name", "   ", "must be 1 to 200 characters"),
    ],
)
def test_register_refuses_a_bad_field_and_names_it(client, field, value, message):
    r = _register(client, **{field: value})
    assert r.status_code == 422
    assert _error(r) == {
        "code": "validation_failed",
        "message": f"{field}: {message}",
        "details": [{"field": field, "message": message}],
    }
    assert _count(client, Member) == 0


def test_register_with_an_unknown_field_is_refused(client):
    r = _register(client, is_admin=True)
    assert r.status_code == 422
    assert _error(r)["details"] == [
        {"field": "is_admin", "message": "Extra inputs are not permitted"}
    ]
    assert _count(client, Member) == 0


@pytest.mark.parametrize("second", ["ada@example.org", "ADA@Example.Org", " ada@example.org "])
def test_a_second_account_with_the_same_email_is_a_conflict(client, second):
    assert _register(client).status_code == 201
    r = _register(client, email=second, display_name="Someone else", role="requester")
    assert r.status_code == 409
    assert _error(r) == {
        "code": "email_taken",
        "message": "an account with this email already exists",
        "details": None,
    }
    assert _count(client, Member) == 1
    assert _login(client).status_code == 201  # the first account still logs in


# --- login and API tokens ------------------------------------------------------------------


def test_login_returns_a_new_token_shown_once(client):
    _register(client)
    r = _login(client, email="ADA@example.org ", token_name="laptop")
    assert r.status_code == 201, r.text
    body = r.json()
    assert re.fullmatch(r"dct_[A-Za-z0-9_-]{43}", body["token"])
    assert body == {
        "id": body["id"],
        "name": "laptop",
        "prefix": body["token"][:10],
        "created_at": NOW,
        "revoked_at": None,
        "token": body["token"],
    }
    assert _me(client, _bearer(body["token"]))["email"] == "ada@example.org"


def test_wrong_password_and_unknown_email_get_the_same_answer(client):
    _register(client)
    _login(client)
    tokens = _count(client, ApiToken)
    wrong = _login(client, password="incorrect horse battery")
    unknown = _login(client, email="nobody@example.org")
    for r in (wrong, unknown):
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        assert _error(r) == {
            "code": "bad_credentials",
            "message": "wrong email or password",
            "details": None,
        }
    assert wrong.json() == unknown.json()
    assert _count(client, ApiToken) == tokens


def test_secrets_are_stored_only_as_hashes(client):
    _register(client)
    token = _login(client).json()["token"]
    with client.app.state.ctx.sessions() as s:
        row = s.scalars(select(ApiToken)).one()
        member = s.scalars(select(Member)).one()
    assert re.fullmatch(r"[0-9a-f]{64}", row.token_hash)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = [str(v) for v in vars(row).values()]
    assert not any(token in v for v in stored)
    assert row.prefix == token[:10] and len(row.prefix) < len(token)
    assert member.password_hash.startswith("$argon2id$")
    assert PASSWORD not in member.password_hash


def test_me_returns_the_caller(client, api):
    headers = api.user("requester", email="req@example.org")
    body = _me(client, headers)
    assert body == {
        "id": body["id"],
        "email": "req@example.org",
        "pseudonym": body["pseudonym"],
        "display_name": body["display_name"],
        "role": "requester",
        "created_at": NOW,
    }


def test_tokens_can_be_listed_created_and_revoked(client, clock):
    _register(client)
    login = _login(client).json()
    headers = _bearer(login["token"])
    clock.advance(60)
    created = client.post("/api/v1/me/tokens", json={"name": "script"}, headers=headers)
    assert created.status_code == 201, created.text
    new = created.json()
    assert new["name"] == "script" and new["created_at"] == "2026-01-01T00:01:00Z"
    assert new["token"] != login["token"] and new["revoked_at"] is None
    assert _me(client, _bearer(new["token"]))["email"] == "ada@example.org"

    listed = client.get("/api/v1/me/tokens", headers=headers)
    assert listed.status_code == 200
    assert listed.json() == [{k: v for k, v in t.items() if k != "token"} for t in (login, new)]

    clock.advance(60)
    revoked = client.delete(f"/api/v1/me/tokens/{new['id']}", headers=headers)
    assert revoked.status_code == 200
    assert revoked.json() == {
        "id": new["id"],
        "name": "script",
        "prefix": new["prefix"],
        "created_at": "2026-01-01T00:01:00Z",
        "revoked_at": "2026-01-01T00:02:00Z",
    }
    refused = client.get("/api/v1/me", headers=_bearer(new["token"]))
    assert refused.status_code == 401
    assert _error(refused) == {
        "code": "bad_token",
        "message": "invalid or revoked API token",
        "details": None,
    }
    # Revoking again changes nothing; the other token still works.
    clock.advance(60)
    again = client.delete(f"/api/v1/me/tokens/{new['id']}", headers=headers)
    assert again.json()["revoked_at"] == "2026-01-01T00:02:00Z"
    assert client.get("/api/v1/me/tokens", headers=headers).json()[1]["revoked_at"] == (
        "2026-01-01T00:02:00Z"
    )


def test_a_member_can_revoke_the_token_they_are_using(client):
    _register(client)
    login = _login(client).json()
    r = client.delete(f"/api/v1/me/tokens/{login['id']}", headers=_bearer(login["token"]))
    assert r.status_code == 200
    assert client.get("/api/v1/me", headers=_bearer(login["token"])).status_code == 401


def test_revoking_someone_elses_token_is_not_found_and_changes_nothing(client):
    _register(client)
    _register(client, email="bob@example.org", display_name="Bob")
    ada = _login(client).json()
    bob = _login(client, email="bob@example.org").json()
    for token_id in (bob["id"], 999_999):
        r = client.delete(f"/api/v1/me/tokens/{token_id}", headers=_bearer(ada["token"]))
        assert r.status_code == 404
        assert _error(r) == {"code": "not_found", "message": "no such API token", "details": None}
    assert _count(client, ApiToken, ApiToken.revoked_at.is_not(None)) == 0
    assert _me(client, _bearer(bob["token"]))["email"] == "bob@example.org"


@pytest.mark.parametrize("name", ["", "   "])
def test_a_token_needs_a_name(client, api, name):
    headers = api.user()
    before = _count(client, ApiToken)
    r = client.post("/api/v1/me/tokens", json={"name": name}, headers=headers)
    assert r.status_code == 422
    assert _error(r) == {
        "code": "validation_failed",
        "message": "name: must be 1 to 100 characters",
        "details": [{"field": "name", "message": "must be 1 to 100 characters"}],
    }
    assert _count(client, ApiToken) == before


@pytest.mark.parametrize(
    ("authorization", "code", "message"),
    [
        (None, "not_authenticated", "log in or send an API token"),
        ("Basic YWRhOnNlY3JldA==", "bad_token", "use 'Authorization: Bearer <token>'"),
        ("Bearer", "bad_token", "use 'Authorization: Bearer <token>'"),
        ("dct_just-the-token", "bad_token", "use 'Authorization: Bearer <token>'"),
        ("Bearer dct_not-a-real-token", "bad_token", "invalid or revoked API token"),
    ],
)
def test_missing_or_garbage_credentials_are_refused(client, api, authorization, code, message):
    api.user()  # a real account exists; it does not help
    headers = {"Authorization": authorization} if authorization is not None else {}
    for r in (
        client.get("/api/v1/me", headers=headers),
        client.get("/api/v1/me/tokens", headers=headers),
        client.post("/api/v1/me/tokens", json={"name": "x"}, headers=headers),
    ):
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        assert _error(r) == {"code": code, "message": message, "details": None}
    assert _count(client, ApiToken) == 1


# --- steward administration ----------------------------------------------------------------


def test_stewards_page_through_members_without_emails(client, api):
    steward = api.user("steward")
    for _ in range(3):
        api.user()
    api.user("requester")
    everyone = client.get("/api/v1/members?limit=500", headers=steward).json()
    assert everyone["next_after"] is None
    assert [m["role"] for m in everyone["data"]] == [
        "steward",
        "member",
        "member",
        "member",
        "requester",
    ]
    for m in everyone["data"]:
        assert set(m) == {"id", "pseudonym", "display_name", "role", "created_at"}
        assert "@" not in str(m)

    seen, after, pages = [], 0, []
    while after is not None:
        r = client.get(f"/api/v1/members?after={after}&limit=2", headers=steward)
        assert r.status_code == 200
        page = r.json()
        pages.append(len(page["data"]))
        seen.extend(page["data"])
        after = page["next_after"]
        if after is not None:
            assert after == page["data"][-1]["id"]
    assert pages == [2, 2, 1]
    assert seen == everyone["data"]


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "after=-1", "limit=two"])
def test_member_listing_checks_its_paging_parameters(client, api, query):
    steward = api.user("steward")
    r = client.get(f"/api/v1/members?{query}", headers=steward)
    assert r.status_code == 422
    error = _error(r)
    assert error["code"] == "validation_failed"
    assert [d["field"] for d in error["details"]] == [query.split("=")[0]]


@pytest.mark.parametrize("role", ["member", "requester"])
def test_only_stewards_list_members_or_change_roles(client, api, role):
    caller = api.user(role)
    target = _me(client, api.user())
    listed = client.get("/api/v1/members", headers=caller)
    changed = client.patch(
        f"/api/v1/members/{target['id']}", json={"role": "steward"}, headers=caller
    )
    for r in (listed, changed):
        assert r.status_code == 403
        assert _error(r) == {
            "code": "permission_denied",
            "message": "this needs the steward role",
            "details": None,
        }
    with client.app.state.ctx.sessions() as s:
        assert s.get(Member, target["id"]).role.value == "member"
    assert _me(client, caller)["role"] == role


def test_a_steward_changes_a_role_and_it_takes_effect(client, api):
    steward = api.user("steward")
    headers = api.user()
    target = _me(client, headers)
    spec = {
        "title": "T",
        "task_type": "single_choice",
        "labels": ["a", "b"],
        "pay_per_item": 1,
        "estimated_seconds": 5,
    }
    assert client.post("/api/v1/projects", json=spec, headers=headers).status_code == 403
    r = client.patch(f"/api/v1/members/{target['id']}", json={"role": "requester"}, headers=steward)
    assert r.status_code == 200
    assert r.json() == {
        "id": target["id"],
        "pseudonym": target["pseudonym"],
        "display_name": target["display_name"],
        "role": "requester",
        "created_at": NOW,
    }
    assert _me(client, headers)["role"] == "requester"
    assert client.post("/api/v1/projects", json=spec, headers=headers).status_code == 201


def test_role_changes_refuse_unknown_members_and_roles(client, api):
    steward = api.user("steward")
    target = _me(client, api.user())
    missing = client.patch("/api/v1/members/999999", json={"role": "member"}, headers=steward)
    assert missing.status_code == 404
    assert _error(missing) == {"code": "not_found", "message": "no such member", "details": None}
    bad = client.patch(f"/api/v1/members/{target['id']}", json={"role": "admin"}, headers=steward)
    assert bad.status_code == 422
    assert [d["field"] for d in _error(bad)["details"]] == ["role"]
    assert _me(client, steward)["role"] == "steward"
    with client.app.state.ctx.sessions() as s:
        assert s.get(Member, target["id"]).role.value == "member"


# --- identities ----------------------------------------------------------------------------


def test_pseudonyms_are_unique_and_carry_no_email_or_name(client):
    made = []
    for n in range(8):
        r = _register(client, email=f"person{n}@example.org", display_name=f"Person {n}")
        made.append(r.json())
    pseudonyms = [m["pseudonym"] for m in made]
    assert len(set(pseudonyms)) == len(pseudonyms)
    for m in made:
        assert PSEUDONYM.fullmatch(m["pseudonym"])
        local = m["email"].split("@")[0]
        assert local not in m["pseudonym"] and "example" not in m["pseudonym"]


def _work_one_item(client, api, worker) -> tuple[dict, dict]:
    """A fresh project with one item, answered by ``worker``; returns (owner headers, project)."""
    owner = api.user("requester")
    project = api.project(owner, overlap=1)
    api.items(owner, project["id"], "id,text\nq1,sky\n")
    task = client.post(f"/api/v1/projects/{project['id']}/next", headers=worker).json()
    sub = client.post(
        "/api/v1/submissions",
        headers=worker,
        json={"assignment_id": task["assignment_id"], "answer": "blue"},
    )
    assert sub.status_code == 201, sub.text
    return owner, project


def test_the_same_member_has_a_different_contributor_id_in_each_project(client, api):
    worker = api.user(email="worker@example.org")
    me = _me(client, worker)
    exports = []
    for _ in range(2):
        owner, project = _work_one_item(client, api, worker)
        r = client.get(f"/api/v1/projects/{project['id']}/export?format=csv", headers=owner)
        assert r.status_code == 200
        exports.append(r.text)
    ids = []
    for text in exports:
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 1
        assert re.fullmatch(r"c-[0-9a-f]{16}", rows[0]["contributor_id"])
        ids.append(rows[0]["contributor_id"])
        for secret in (me["pseudonym"], me["email"], me["display_name"], "worker"):
            assert secret not in text
    assert ids[0] != ids[1]
    assert _count(client, Contributor, Contributor.member_id == me["id"]) == 2
