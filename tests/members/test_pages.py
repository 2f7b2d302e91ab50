"""Register and settings pages over HTTP: CSRF, errors next to fields, input kept, sessions."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from datacoop.members.models import ApiToken, Member, WebSession

PASSWORD = "correct horse battery"


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _login(client, email: str, password: str = PASSWORD, next: str = "/"):
    token = _token(client.get("/login").text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": next},
        follow_redirects=False,
    )


def _register(client, **fields):
    token = _token(client.get("/register").text)
    data = {
        "display_name": "Nia",
        "email": "nia@example.org",
        "password": PASSWORD,
        "confirm_password": PASSWORD,
        "role": "member",
        "csrf_token": token,
    } | fields
    return client.post("/register", data=data, follow_redirects=False)


def _count(client, model) -> int:
    with client.app.state.ctx.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def test_register_page_labels_every_control(client):
    page = client.get("/register")
    assert page.status_code == 200
    for name in ("display_name", "email", "password", "confirm_password", "role-member"):
        assert f'for="{name}"' in page.text and f'id="{name}"' in page.text
    assert "datacoop_login_csrf=" in page.headers["set-cookie"]


def test_a_newcomer_registers_and_lands_on_the_dashboard(client):
    r = _register(client)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    cookie = r.headers["set-cookie"]
    assert "datacoop_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert _count(client, Member) == 1 and _count(client, WebSession) == 1
    assert client.get("/dashboard").status_code == 200


def test_a_requester_registers_and_lands_on_projects(client):
    r = _register(client, role="requester", next="/projects/new")
    assert r.status_code == 303 and r.headers["location"] == "/projects/new"


def test_register_errors_sit_next_to_their_fields_and_input_is_kept(client):
    r = _register(client, email="not-an-email", password="short", confirm_password="short")
    assert r.status_code == 422
    assert 'value="not-an-email"' in r.text and 'value="Nia"' in r.text
    assert '<span class="field-error" id="email-error">Email is not a valid email address</span>' in r.text
    assert 'aria-invalid="true"' in r.text
    assert "short" not in r.text  # passwords are never echoed back
    assert _count(client, Member) == 0


def test_register_reports_each_problem(client):
    r = _register(client, confirm_password="something else entirely")
    assert r.status_code == 422 and 'id="confirm_password-error"' in r.text
    r = _register(client, role="steward")
    assert r.status_code == 422 and 'id="role-error"' in r.text
    assert _register(client).status_code == 303
    client.cookies.clear()
    r = _register(client, display_name="Other")
    assert r.status_code == 409
    assert "Email already has an account" in r.text and 'value="Other"' in r.text
    assert _count(client, Member) == 1


def test_register_without_the_form_token_is_refused(client):
    _token(client.get("/register").text)
    r = client.post(
        "/register",
        data={"display_name": "Nia", "email": "nia@example.org", "password": PASSWORD,
              "confirm_password": PASSWORD, "csrf_token": "forged"},
    )
    assert r.status_code == 403 and "Your form expired" in r.text
    assert _count(client, Member) == 0


def test_an_ended_session_comes_back_to_the_same_page_after_login(client, api):
    api.user("member", email="m@example.org")
    r = client.get("/work?after=0", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/work%3Fafter%3D0"
    form = client.get(r.headers["location"])
    assert 'name="next" value="/work?after=0"' in form.text
    r = _login(client, "m@example.org", next="/work?after=0")
    assert r.status_code == 303 and r.headers["location"] == "/work?after=0"


def test_login_never_redirects_off_site(client, api):
    api.user("member", email="m@example.org")
    for target in ("//evil.example", "https://evil.example/", "/\\evil.example"):
        r = _login(client, "m@example.org", next=target)
        assert r.headers["location"] == "/dashboard"


def test_wrong_password_keeps_the_email(client, api):
    api.user("member", email="m@example.org")
    r = _login(client, "m@example.org", password="wrong password")
    assert r.status_code == 401 and 'value="m@example.org"' in r.text


# -- settings ------------------------------------------------------------------------------------


def _settings(client) -> tuple[str, str]:
    page = client.get("/settings")
    assert page.status_code == 200
    return page.text, _token(page.text)


def test_settings_need_a_session(client):
    r = client.get("/settings", follow_redirects=False)
    assert r.headers["location"] == "/login?next=/settings"


def test_settings_show_the_pseudonym_and_no_payout_method_yet(client, api):
    api.user("member", email="m@example.org")
    _login(client, "m@example.org")
    text, _ = _settings(client)
    with client.app.state.ctx.sessions() as s:
        pseudonym = s.scalar(select(Member.pseudonym))
    assert f'<code id="pseudonym">{pseudonym}</code>' in text
    assert 'id="payout-none"' in text and 'id="payout-stored"' not in text
    assert 'action="/settings/payout"' in text


def test_a_payout_method_with_errors_next_to_fields_then_stored_masked(client, api):
    from datacoop.payouts.models import PayoutMethod

    api.user("member", email="m@example.org")
    _login(client, "m@example.org")
    _, csrf = _settings(client)
    bad = {"kind": "sepa", "sepa_holder": "Nia N.", "iban": "DE00 1234", "csrf_token": csrf}
    r = client.post("/settings/payout", data=bad)
    assert r.status_code == 422
    assert 'id="iban-error">IBAN not a valid IBAN' in r.text
    assert 'aria-describedby="iban-hint iban-error"' in r.text
    assert 'value="DE00 1234"' in r.text and 'value="Nia N."' in r.text  # input kept
    assert _count(client, PayoutMethod) == 0
    r = client.post("/settings/payout", data=bad | {"csrf_token": "wrong"})
    assert r.status_code == 403 and _count(client, PayoutMethod) == 0
    r = client.post(
        "/settings/payout", data={"kind": "mobile_money", "provider": "M-Pesa", "csrf_token": csrf}
    )
    assert r.status_code == 422 and 'id="phone-error"' in r.text
    r = client.post("/settings/payout", data=bad | {"kind": "carrier pigeon"})
    assert r.status_code == 422 and "choose SEPA, mobile money or other" in r.text
    assert 'value="Nia N."' in r.text and _count(client, PayoutMethod) == 0
    good = bad | {"iban": "DE89 3704 0044 0532 0130 00"}
    r = client.post("/settings/payout", data=good, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/settings?done=payout#payout-h"
    text = client.get("/settings?done=payout").text
    assert "Your payout method was saved." in text
    stored = text[text.index('id="payout-stored"'):text.index("</dl>", text.index('id="payout-stored"'))]
    assert "<dd>SEPA bank transfer</dd>" in stored
    assert "<code>••••••••••••••••••3000</code>" in stored
    assert "DE89370400440532013000" not in text
    assert _count(client, PayoutMethod) == 1


def test_rename(client, api):
    api.user("member", email="m@example.org")
    _login(client, "m@example.org")
    _, csrf = _settings(client)
    r = client.post("/settings/profile", data={"display_name": "  ", "csrf_token": csrf})
    assert r.status_code == 422 and 'id="display_name-error"' in r.text
    r = client.post(
        "/settings/profile", data={"display_name": "Nia N.", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/settings?done=profile"
    assert "Your name was saved." in client.get(r.headers["location"]).text
    with client.app.state.ctx.sessions() as s:
        assert s.scalar(select(Member.display_name)) == "Nia N."


def test_settings_forms_need_the_csrf_token(client, api):
    api.user("member", email="m@example.org")
    _login(client, "m@example.org")
    for path, data in (
        ("/settings/profile", {"display_name": "X"}),
        ("/settings/password", {"current_password": PASSWORD, "new_password": "x" * 12,
                                "confirm_password": "x" * 12}),
        ("/settings/tokens", {"token_name": "script"}),
        ("/settings/tokens/1/revoke", {}),
    ):
        r = client.post(path, data=data | {"csrf_token": "forged"})
        assert r.status_code == 403, path
    with client.app.state.ctx.sessions() as s:
        assert s.scalar(select(Member.display_name)) != "X"
        assert s.scalar(select(func.count()).select_from(ApiToken)) == 1  # the one api.user made
        assert s.scalar(select(func.count()).where(ApiToken.revoked_at.is_not(None))) == 0


def test_change_password_ends_other_sessions(client, app, api):
    from fastapi.testclient import TestClient

    api.user("member", email="m@example.org")
    with TestClient(app) as other:
        _login(other, "m@example.org")
        assert other.get("/settings").status_code == 200
        _login(client, "m@example.org")
        _, csrf = _settings(client)
        bad = {"current_password": "wrong password", "new_password": "n" * 12,
               "confirm_password": "n" * 12, "csrf_token": csrf}
        r = client.post("/settings/password", data=bad)
        assert r.status_code == 422 and "Current password is not your current password" in r.text
        r = client.post("/settings/password", data=bad | {"current_password": PASSWORD,
                                                           "confirm_password": "m" * 12})
        assert r.status_code == 422 and 'id="confirm_password-error"' in r.text
        r = client.post("/settings/password", data=bad | {"current_password": PASSWORD,
                                                           "new_password": "short",
                                                           "confirm_password": "short"})
        assert r.status_code == 422 and "New password must be at least 10 characters" in r.text
        r = client.post(
            "/settings/password", data=bad | {"current_password": PASSWORD},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert client.get("/settings").status_code == 200  # this browser stays logged in
        assert other.get("/settings", follow_redirects=False).status_code == 303
    assert _count(client, WebSession) == 1
    client.cookies.clear()
    assert _login(client, "m@example.org", password="n" * 12).status_code == 303


def test_api_tokens_are_shown_once_and_can_be_revoked(client, api):
    api.user("member", email="m@example.org")
    _login(client, "m@example.org")
    _, csrf = _settings(client)
    r = client.post("/settings/tokens", data={"token_name": "", "csrf_token": csrf})
    assert r.status_code == 422 and 'id="token_name-error"' in r.text
    r = client.post("/settings/tokens", data={"token_name": "my script", "csrf_token": csrf})
    assert r.status_code == 201
    secret = re.search(r'id="new-token-secret" type="text" readonly value="([^"]+)"', r.text).group(1)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    again = client.get("/settings").text
    assert secret not in again and secret[:10] in again  # the prefix, never the secret
    with client.app.state.ctx.sessions() as s:
        token_id = s.scalar(select(ApiToken.id).where(ApiToken.name == "my script"))
    r = client.post(
        f"/settings/tokens/{token_id}/revoke", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/settings?done=revoked"
    client.cookies.clear()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_a_member_cannot_revoke_someone_elses_token(client, api):
    api.user("member", email="a@example.org")
    api.user("member", email="b@example.org")
    _login(client, "b@example.org")
    _, csrf = _settings(client)
    with client.app.state.ctx.sessions() as s:
        theirs = s.scalar(
            select(ApiToken.id).join(Member, Member.id == ApiToken.member_id)
            .where(Member.email == "a@example.org")
        )
    r = client.post(f"/settings/tokens/{theirs}/revoke", data={"csrf_token": csrf})
    assert r.status_code == 404
    with client.app.state.ctx.sessions() as s:
        assert s.get(ApiToken, theirs).revoked_at is None


def test_a_settings_form_posted_after_the_session_ended_goes_to_login_and_back(client, api):
    api.user("member", email="m@example.org")
    r = client.post(
        "/settings/profile", data={"display_name": "X", "csrf_token": "x"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/settings"
    with client.app.state.ctx.sessions() as s:
        assert s.scalar(select(Member.display_name)) != "X"
