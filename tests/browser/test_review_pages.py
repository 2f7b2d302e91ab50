"""Reviewing work from the pages, in real Chromium: a requester rejects a submission by
keyboard alone and the member sees it; a steward confirms fraud on an unappealed
``suspected_fraud`` rejection after its window; the project form's live hourly rate uses the
currency's decimals, as the server does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from datacoop.clock import FixedClock
from datacoop.members import services as members
from datacoop.members.models import Role

REQUESTER = "req@example.org"
MEMBER = "worker@example.org"
STEWARD = "steward@example.org"
PASSWORD = "correct horse battery"


def _submitted(live_server, reason: str | None = None) -> tuple[int, int, int | None]:
    """A project of REQUESTER with one answer by MEMBER: (project, submission, rejection)."""
    api, http = live_server.api, live_server.api.http
    req = api.user("requester", email=REQUESTER)
    project = api.project(req, title="Skies", overlap=1)
    api.items(req, project["id"], "text\nsky at noon\n")
    worker = api.user("member", email=MEMBER)
    task = http.post(f"/projects/{project['id']}/next", headers=worker).json()
    sub = http.post(
        "/submissions",
        headers=worker,
        json={"assignment_id": task["assignment_id"], "answer": "red"},
    ).json()
    rid = None
    if reason:
        r = http.post(
            f"/submissions/{sub['id']}/rejection",
            headers=req,
            json={"reason": reason, "evidence": "400 answers in one minute, all 'red'."},
        )
        assert r.status_code == 201, r.text
        rid = int(r.json()["id"])
    return int(project["id"]), int(sub["id"]), rid


def _tab_to(page, locator, limit: int = 80) -> None:
    """Press Tab until ``locator`` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {locator}")


def test_a_requester_rejects_a_submission_by_keyboard_and_the_member_sees_it(
    live_server, page, phone_page, login, screenshot
):
    pid, sid, _ = _submitted(live_server)
    login(page, live_server, REQUESTER)
    page.goto(live_server.url(f"/projects/{pid}/progress"))
    _tab_to(page, page.get_by_role("link", name="Review submissions"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/projects/{pid}/submissions")
    row = page.locator(f"#submission-{sid}")
    assert row.locator(".state").inner_text() == "awaiting review"

    _tab_to(page, row.locator("summary"))
    page.keyboard.press("Enter")  # opens the reject form
    reason = row.get_by_label("Reason")
    _tab_to(page, reason)
    while reason.input_value() != "wrong_answer":
        page.keyboard.press("ArrowDown")
    evidence = row.get_by_label("Evidence")
    _tab_to(page, evidence)
    page.keyboard.type("The sky at noon is blue.")
    screenshot(page, "requester-submissions")
    _tab_to(page, row.get_by_role("button", name=f"Reject submission {sid}"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/projects/{pid}/submissions?done=rejected-{sid}*")
    assert f"Submission {sid} rejected." in page.get_by_role("status").inner_text()
    row = page.locator(f"#submission-{sid}")
    assert row.locator(".state").inner_text() == "rejected"
    assert "The sky at noon is blue." in row.inner_text()
    screenshot(page, "requester-submission-rejected")

    # At phone width the page still fits.
    login(phone_page, live_server, REQUESTER)
    phone_page.goto(live_server.url(f"/projects/{pid}/submissions"))
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(phone_page, "requester-submissions-phone")

    page.context.clear_cookies()
    login(page, live_server, MEMBER)
    page.goto(live_server.url("/work"))
    status = page.locator(f"#submission-{sid} .rejection")
    assert status.locator(".state").inner_text() == "rejected"
    assert "The sky at noon is blue." in status.inner_text()


def test_a_steward_confirms_fraud_after_the_appeal_window(live_server, page, login, screenshot):
    ctx = live_server.ctx
    _, sid, rid = _submitted(live_server, reason="suspected_fraud")
    with ctx.sessions() as s:
        members.register(
            s, ctx.clock, ctx.hasher, email=STEWARD, password=PASSWORD,
            display_name="Sam Steward", role=Role.steward,
        )  # fmt: skip
        s.commit()
    login(page, live_server, STEWARD)
    page.goto(live_server.url("/steward/appeals"))
    assert page.locator("#no-fraud").is_visible()  # the window is still open

    # Fifteen days on, past the 14-day appeal window: the server's clock moves.
    ctx.clock = FixedClock(datetime.now(UTC) + timedelta(days=15))
    page.context.clear_cookies()
    login(page, live_server, STEWARD)
    page.get_by_role("link", name="Appeals").click()
    card = page.locator(f"#fraud-{rid}")
    assert "400 answers in one minute" in card.locator(".evidence").inner_text()
    assert card.locator(".state").inner_text() == "not appealed"
    card.get_by_label("Note for the member").fill("Scripted answers: 400 in a minute.")
    screenshot(page, "steward-fraud-confirmation")
    card.get_by_role("button", name=f"Confirm fraud on rejection {rid}").click()
    page.wait_for_load_state()
    assert f"Fraud confirmed on rejection {rid}" in page.get_by_role("status").inner_text()
    assert page.locator("#no-fraud").is_visible()

    page.context.clear_cookies()
    login(page, live_server, MEMBER)
    page.goto(live_server.url("/work"))
    status = page.locator(f"#submission-{sid} .rejection")
    assert status.locator(".state").inner_text() == "decided: fraud confirmed"
    assert "Scripted answers" in status.inner_text()


def test_the_live_hourly_rate_uses_the_currencys_decimals(live_server, page, login, screenshot):
    live_server.api.user("requester", email=REQUESTER)
    login(page, live_server, REQUESTER)
    page.goto(live_server.url("/projects/new"))
    page.get_by_label("Title").fill("Yen work")
    page.get_by_label("Labels, one per line").fill("red\nblue")
    page.get_by_label("Instructions").fill("Pick the colour.")
    page.locator("#pay_per_item").fill("100")
    page.locator("#estimated_seconds").fill("10")
    hourly = page.locator("#hourly")
    assert hourly.inner_text() == "360.00 USD"
    page.get_by_label("Currency").fill("JPY")
    live = hourly.inner_text()
    assert live == "36,000 JPY"  # 100 yen per 10 s: no decimals
    screenshot(page, "project-form-jpy")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_load_state()
    assert page.locator("#hourly").inner_text() == live  # the server says the same
    page.get_by_label("Currency").fill("BHD")
    page.locator("#pay_per_item").fill("5")
    live = page.locator("#hourly").inner_text()
    assert live == "1.800 BHD"  # 5 fils per 10 s: three decimals
    page.get_by_role("button", name="Preview").click()
    page.wait_for_load_state()
    assert page.locator("#hourly").inner_text() == live
