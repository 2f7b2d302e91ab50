"""The browser fixtures work: Chromium reaches the live server, logs in, and screenshots."""

from __future__ import annotations


def test_chromium_logs_in_on_the_live_server(live_server, page, login, screenshot):
    live_server.api.user("member", email="smoke@example.org")
    page.goto(live_server.url("/"))
    assert "/login?next=/" in page.url
    screenshot(page, "login")
    login(page, live_server, "smoke@example.org")
    assert page.url.startswith(live_server.url("/"))
    assert page.get_by_role("button", name="Log out").is_visible()
    path = screenshot(page, "smoke-after-login")
    assert path.stat().st_size > 1000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_phone_width_page(live_server, phone_page):
    phone_page.goto(live_server.url("/login"))
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
