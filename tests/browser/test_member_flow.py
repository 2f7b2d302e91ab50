"""The member's side in real Chromium: register, work by keyboard, see receipts, verify one;
and what a member must not reach."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from datacoop.work.models import Submission

NEWCOMER = "newcomer@example.org"
PASSWORD = "correct horse battery"


def _requester_project(live_server, n_items: int = 6, **spec):
    req = live_server.api.user("requester")
    spec = {"overlap": 1, "title": "Colour words", "labels": ["red", "blue", "green"]} | spec
    project = live_server.api.project(req, **spec)
    rows = "".join(f"colour {i}\n" for i in range(n_items))
    live_server.api.items(req, project["id"], "text\n" + rows)
    return req, project


def _count(live_server, **where) -> int:
    with live_server.ctx.sessions() as s:
        q = select(func.count()).select_from(Submission)
        for k, v in where.items():
            q = q.where(getattr(Submission, k) == v)
        return int(s.scalar(q))


@pytest.mark.all_backends
def test_a_newcomer_registers_labels_by_keyboard_and_verifies_a_receipt(
    live_server, page, screenshot
):
    _req, project = _requester_project(live_server)
    keyboard = page.keyboard

    # Register, with one mistake first: the form comes back with the input kept.
    page.goto(live_server.url("/register"))
    page.get_by_label("Name").focus()
    keyboard.type("Nia Newcomer")
    keyboard.press("Tab")
    keyboard.type(NEWCOMER)
    keyboard.press("Tab")
    keyboard.type("short")
    keyboard.press("Tab")
    keyboard.type("short")
    keyboard.press("Enter")
    assert page.locator("#password-error").inner_text() == (
        "Password must be at least 10 characters"
    )
    assert page.get_by_label("Email").input_value() == NEWCOMER
    screenshot(page, "register-with-error")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_label("Password again").press("Enter")
    page.wait_for_url(live_server.url("/dashboard"))

    # The dashboard shows pay, time and hourly rate before acceptance.
    card = page.locator(f"#project-{project['id']}")
    assert card.locator(".pay").inner_text() == "0.05 USD"
    assert card.locator(".hourly").inner_text() == "18.00 USD per hour"
    assert "10 s" in card.inner_text() and "No reviews yet" in card.inner_text()
    screenshot(page, "member-dashboard")

    # Open the project by keyboard and label 5 items with number keys and Enter.
    card.get_by_role("link", name="Start working on Colour words").focus()
    keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/projects/\d+/work$"))
    for n in range(1, 6):
        page.locator("#choice-0").wait_for()
        page.wait_for_function("document.getElementById('answer-form').hidden === false")
        if n == 1:
            screenshot(page, "task-single-choice")
        keyboard.press(str(1 + n % 2))  # blue, red, blue, red, blue
        keyboard.press("Enter")
        page.wait_for_function(f"document.getElementById('done').textContent === '{n}'")
    assert _count(live_server) == 5

    # My work: five submissions, each with a receipt; verify one in the browser.
    page.goto(live_server.url("/work"))
    rows = page.locator("#submissions tbody tr")
    assert rows.count() == 5
    assert rows.first.locator(".answer").inner_text() == "blue"
    assert rows.first.locator(".status").inner_text() == "accepted"
    first = rows.first.get_by_role("button", name="Verify receipt")
    first.focus()
    keyboard.press("Enter")
    result = rows.first.locator(".verify-result")
    result.filter(has_text="Verified").wait_for()
    assert re.match(r"✓ Verified: entry #\d+ is in the log of \d+ entries", result.inner_text())
    screenshot(page, "my-work-verified")

    # The detail page of one submission verifies too.
    rows.nth(2).get_by_role("link", name=re.compile("^Submission")).click()
    page.get_by_role("button", name="Verify receipt").click()
    page.locator(".verify-result.good").wait_for()
    screenshot(page, "submission-detail")

    # Earnings: the statement per project with the floor, the piece-rate value, over time.
    page.goto(live_server.url("/earnings"))
    assert "15.00 USD per hour" in page.inner_text("#statements tbody tr")
    totals = page.locator("#totals tbody tr").first.inner_text()
    assert "Colour words" in totals and "0.25 USD" in totals
    assert page.locator("svg.chart rect.chart-bar").count() == 30
    screenshot(page, "member-earnings")

    page.goto(live_server.url("/settings"))
    assert page.locator("#pseudonym").inner_text().strip()
    screenshot(page, "member-settings")


def test_a_tampered_receipt_does_not_verify(live_server, page):
    """The in-browser verifier is not a rubber stamp: change one field and it says so."""
    req, project = _requester_project(live_server, n_items=1)
    member = live_server.api.user("member", email="m@example.org")
    task = live_server.api.http.post(f"/projects/{project['id']}/next", headers=member).json()
    receipt = live_server.api.http.post(
        "/submissions", json={"assignment_id": task["assignment_id"], "answer": "red"}, headers=member
    ).json()["receipt"]
    page.goto(live_server.url("/login"))
    page.get_by_label("Email").fill("m@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url("/work"))
    good = page.evaluate("r => window.datacoopReceipts.verifyReceipt(r)", receipt)
    assert good is None
    receipt["entry"]["active_ms"] += 1
    bad = page.evaluate("r => window.datacoopReceipts.verifyReceipt(r)", receipt)
    assert bad == "the inclusion proof does not lead to the signed root"


def test_a_double_clicked_submit_records_one_submission(live_server, page, login):
    _req, project = _requester_project(live_server, n_items=2)
    live_server.api.user("member", email="m@example.org")
    login(page, live_server, "m@example.org")
    page.goto(live_server.url(f"/projects/{project['id']}/work"))
    page.locator("#choice-0").check()
    page.locator("#submit").dblclick()
    page.wait_for_function("document.getElementById('done').textContent === '1'")
    page.locator("#choice-0").wait_for()
    assert _count(live_server) == 1


@pytest.mark.all_backends
def test_a_member_cannot_reach_others_work_or_requester_pages(
    live_server, page, login, screenshot
):
    _req, project = _requester_project(live_server, n_items=2)
    other = live_server.api.user("member", email="other@example.org")
    task = live_server.api.http.post(f"/projects/{project['id']}/next", headers=other).json()
    theirs = live_server.api.http.post(
        "/submissions", json={"assignment_id": task["assignment_id"], "answer": "red"}, headers=other
    ).json()
    live_server.api.user("member", email="m@example.org")
    login(page, live_server, "m@example.org")

    r = page.goto(live_server.url(f"/work/submissions/{theirs['id']}"))
    assert r.status == 403
    assert "only see your own submissions" in page.inner_text("main")
    screenshot(page, "forbidden-submission")
    r = page.goto(live_server.url(f"/api/v1/submissions/{theirs['id']}/receipt"))
    assert r.status == 403
    for path in ("progress", "items", "export", "cost"):
        r = page.goto(live_server.url(f"/projects/{project['id']}/{path}"))
        assert r.status == 403, path
    page.goto(live_server.url("/work"))
    assert page.locator("#no-work").is_visible()  # the other member's answer is not listed


def test_an_expired_session_returns_to_the_same_page(live_server, page, login):
    _req, project = _requester_project(live_server, n_items=1)
    live_server.api.user("member", email="m@example.org")
    login(page, live_server, "m@example.org")
    page.context.clear_cookies()  # as if the session had ended
    page.goto(live_server.url("/work?after=0"))
    assert "/login?next=" in page.url
    page.get_by_label("Email").fill("m@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url("/work?after=0"))


def test_phone_width_pages_fit(live_server, phone_page, login, screenshot):
    _req, project = _requester_project(live_server, n_items=1, sensitivity="sensitive")
    live_server.api.user("member", email="m@example.org")
    login(phone_page, live_server, "m@example.org")
    for path, name in (
        ("/dashboard", "phone-dashboard"),
        (f"/projects/{project['id']}/work", "phone-task"),
        ("/work", "phone-my-work"),
        ("/earnings", "phone-earnings"),
        ("/settings", "phone-settings"),
    ):
        phone_page.goto(live_server.url(path))
        if path.endswith("/work") and path != "/work":
            phone_page.locator("#choice-0").wait_for()
        width = phone_page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, (path, width)
        screenshot(phone_page, name)


UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter((e) => e.type !== 'hidden' && !e.hidden && e.labels.length === 0 && !e.getAttribute('aria-label'))
  .map((e) => e.outerHTML)"""


def test_every_control_has_a_label(live_server, page, login):
    _req, project = _requester_project(live_server, n_items=1)
    page.goto(live_server.url("/register"))
    assert page.evaluate(UNLABELLED) == []
    live_server.api.user("member", email="m@example.org")
    login(page, live_server, "m@example.org")
    for path in ("/dashboard", f"/projects/{project['id']}/work", "/work", "/earnings", "/settings"):
        page.goto(live_server.url(path))
        if path.endswith("/work") and path != "/work":
            page.locator("#choice-0").wait_for()
        assert page.evaluate(UNLABELLED) == [], path
        assert page.locator("h1").count() == 1, path
