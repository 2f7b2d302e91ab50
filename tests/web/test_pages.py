"""The minimal pages over HTTP: log in with CSRF, project list, task page, progress page."""

from __future__ import annotations

import re

PASSWORD = "correct horse battery"


def _login(client, email: str):
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "/projects"},
        follow_redirects=False,
    )


def test_pages_need_a_session(client):
    r = client.get("/projects", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/projects"


def test_login_sets_an_httponly_samesite_cookie_and_lists_projects(client, api):
    req = api.user("requester", email="req@example.org")
    api.project(req, title="Colour check")
    r = _login(client, "req@example.org")
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "datacoop_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = client.get("/projects")
    assert page.status_code == 200
    assert "Colour check" in page.text and "Progress" in page.text


def test_login_without_the_form_token_is_refused(client, api):
    api.user("member", email="m@example.org")
    r = client.post(
        "/login",
        data={"email": "m@example.org", "password": PASSWORD, "csrf_token": "x"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert "datacoop_session" not in r.headers.get("set-cookie", "")


def test_wrong_password_shows_an_error(client, api):
    api.user("member", email="m@example.org")
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    r = client.post(
        "/login", data={"email": "m@example.org", "password": "nope", "csrf_token": token}
    )
    assert r.status_code == 401 and "Wrong email or password" in r.text


def test_session_api_calls_need_the_csrf_header(client, api):
    req = api.user("requester")
    project = api.project(req)
    api.items(req, project["id"], "text\nsky\n")
    api.user("member", email="m@example.org")
    _login(client, "m@example.org")
    page = client.get(f"/projects/{project['id']}/work")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    without = client.post(f"/api/v1/projects/{project['id']}/next")
    assert without.status_code == 403 and without.json()["error"]["code"] == "csrf_failed"
    with_header = client.post(
        f"/api/v1/projects/{project['id']}/next", headers={"X-CSRF-Token": csrf}
    )
    assert with_header.status_code == 200 and with_header.json()["data"] == {"text": "sky"}


def test_progress_page_is_for_the_owner_only(client, api):
    req = api.user("requester", email="req@example.org")
    project = api.project(req)
    api.user("member", email="m@example.org")
    _login(client, "m@example.org")
    assert client.get(f"/projects/{project['id']}/progress").status_code == 403
    client.cookies.clear()
    _login(client, "req@example.org")
    page = client.get(f"/projects/{project['id']}/progress")
    assert page.status_code == 200 and "Items complete" in page.text


def test_logout_ends_the_session(client, api):
    api.user("member", email="m@example.org")
    _login(client, "m@example.org")
    page = client.get("/projects")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post("/logout", data={"csrf_token": csrf})
    assert client.get("/projects", follow_redirects=False).status_code == 303
