"""Page tests over TestClient: log in through the HTML form, read CSRF tokens."""

from __future__ import annotations

import re

PASSWORD = "correct horse battery"


def form_token(html: str) -> str:
    """The CSRF token of a page's first form (its hidden ``csrf_token`` input)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no form with a CSRF token on this page"
    return found.group(1)


def session_token(html: str) -> str:
    """The signed-in session's CSRF token, from the ``csrf-token`` meta tag every page has."""
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "no csrf-token meta tag: not signed in?"
    return found.group(1)


def log_in(client, email: str, password: str = PASSWORD) -> str:
    """Sign in as ``email`` by the login form, replacing any earlier session in ``client``;
    returns the new session's CSRF token for the forms the test posts next."""
    client.cookies.clear()
    r = client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": form_token(client.get("/login").text),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return session_token(client.get("/transparency").text)
